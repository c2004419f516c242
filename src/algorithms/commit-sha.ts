import { createHash } from 'node:crypto';
import type { SourceFiles } from '../platform/source-tree';

/**
 * A git-like commit id: SHA-1 over the parent commit and a length-prefixed encoding of the sorted
 * tree, so equal trees compiled twice still get distinct ids (each compile is a new commit), and the
 * same history always hashes the same.
 */
export function commitSha(files: SourceFiles, parentSha: string | undefined): string {
  const h = createHash('sha1');
  h.update(`beacon-commit v1\nparent ${parentSha ?? 'none'}\n`);
  for (const p of Object.keys(files).sort()) {
    const content = Buffer.from(files[p], 'utf8');
    h.update(`${Buffer.byteLength(p)}:${p}\n${content.length}:`);
    h.update(content);
    h.update('\n');
  }
  return h.digest('hex');
}
