// The rules a pushed commit's tree must meet to become an algorithm's source: the JSON route's rules
// (source-tree.ts) plus what only a git tree can hold: symbolic links, submodules, binary blobs.
import { pathProblem, SOURCE_LIMITS, treeProblems, type SourceFiles } from '../platform/source-tree';
import type { TreeEntry } from './git-repos';

/** Problems visible from the listing alone, before any content is read. */
export function entryProblems(entries: TreeEntry[]): string[] {
  const problems: string[] = [];
  if (entries.length > SOURCE_LIMITS.maxFiles) problems.push(`the tree has ${entries.length} files; at most ${SOURCE_LIMITS.maxFiles} are allowed`);
  let total = 0;
  for (const e of entries.slice(0, SOURCE_LIMITS.maxFiles + 1)) {
    const shown = JSON.stringify(e.path);
    if (e.type === 'commit') problems.push(`${shown} is a submodule; submodules are not supported`);
    else if (e.mode === '120000') problems.push(`${shown} is a symbolic link; only regular files are accepted`);
    else if (e.type !== 'blob') problems.push(`${shown} is a ${e.type}, not a file`);
    const why = pathProblem(e.path);
    if (why) problems.push(`path ${shown} ${why}`);
    if (e.size > SOURCE_LIMITS.maxFileBytes) problems.push(`${shown} is ${e.size} bytes; a file may have at most ${SOURCE_LIMITS.maxFileBytes}`);
    total += Math.max(0, e.size);
  }
  if (total > SOURCE_LIMITS.maxTotalBytes) problems.push(`the tree is ${total} bytes; at most ${SOURCE_LIMITS.maxTotalBytes} are allowed in total`);
  return problems;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The files as text, or the problems (binary content, and the JSON route's tree rules). */
export function textTree(entries: TreeEntry[], blobs: Map<string, Buffer>): { files: SourceFiles; problems: string[] } {
  const files: SourceFiles = {};
  const problems: string[] = [];
  for (const e of entries) {
    const bytes = blobs.get(e.sha) ?? Buffer.alloc(0);
    let text: string | undefined;
    try {
      text = bytes.includes(0) ? undefined : utf8.decode(bytes);
    } catch {
      text = undefined;
    }
    if (text === undefined) problems.push(`${JSON.stringify(e.path)} is binary; an algorithm's source is UTF-8 text (keep data elsewhere)`);
    else files[e.path] = text;
  }
  if (problems.length === 0) problems.push(...treeProblems(files));
  return { files, problems };
}
