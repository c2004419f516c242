// An algorithm's source is a flat map of relative POSIX paths to UTF-8 text. These are the rules a
// tree must meet before it is stored, and the one writer that puts a tree on disk under those rules.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export type SourceFiles = Record<string, string>;

export const SOURCE_LIMITS = Object.freeze({
  maxFiles: 200,
  maxFileBytes: 1024 * 1024,
  maxTotalBytes: 5 * 1024 * 1024,
  maxPathLength: 255,
});

/** Why a path is refused, or undefined when it is fine. Workers write these paths under their own dir. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > SOURCE_LIMITS.maxPathLength) return `is longer than ${SOURCE_LIMITS.maxPathLength} characters`;
  if (path.includes('\\')) return 'contains a backslash (use / between directories)';
  // NUL and other control characters have no place in a file name and confuse tools and logs.
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'contains a control character';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute (paths are relative to the algorithm root)';
  const segments = path.split('/');
  if (segments.includes('..')) return "contains a '..' segment";
  if (segments.some((s) => s === '' || s === '.')) return "contains an empty or '.' segment";
  return undefined;
}

/** Every problem of a whole tree: counts, sizes and paths. Empty when the tree may be stored. */
export function treeProblems(files: SourceFiles): string[] {
  const problems: string[] = [];
  const paths = Object.keys(files);
  if (paths.length === 0) problems.push('the source needs at least one file');
  if (paths.length > SOURCE_LIMITS.maxFiles) problems.push(`the source has ${paths.length} files; at most ${SOURCE_LIMITS.maxFiles} are allowed`);
  let total = 0;
  for (const p of paths) {
    const why = pathProblem(p);
    if (why) problems.push(`path ${JSON.stringify(p)} ${why}`);
    const bytes = Buffer.byteLength(files[p], 'utf8');
    total += bytes;
    if (bytes > SOURCE_LIMITS.maxFileBytes) problems.push(`${JSON.stringify(p)} is ${bytes} bytes; a file may have at most ${SOURCE_LIMITS.maxFileBytes}`);
  }
  if (total > SOURCE_LIMITS.maxTotalBytes) problems.push(`the source is ${total} bytes; at most ${SOURCE_LIMITS.maxTotalBytes} are allowed in total`);
  // A path that is also a directory of another path cannot be written to disk.
  const all = new Set(paths);
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (all.has(dir)) problems.push(`${JSON.stringify(dir)} is both a file and a directory`);
    }
  }
  return problems;
}

/** Writes an algorithm's files under dir, refusing paths that would escape it (the rules of pathProblem). */
export async function writeSourceTree(dir: string, files: Record<string, string>, mode = 0o600): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    if (pathProblem(path) !== undefined || typeof text !== 'string') throw new Error(`invalid source file path: ${JSON.stringify(path)}`);
    const target = join(dir, ...path.split('/'));
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    await writeFile(target, text, { mode });
  }
}
