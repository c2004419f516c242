import fs from 'node:fs';
import path from 'node:path';

/** The folder with package.json above this file: the same from src/ (tsx) and from dist/src/ (built). */
export function repoRoot(from: string = __dirname): string {
  let dir = from;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}
