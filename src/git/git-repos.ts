// One bare repository per algorithm under GIT_REPOS_DIR (<algorithm id>.git), written only through
// git's own commands. The database source is the truth the builds use; a repository follows it: on
// every git access, a source changed through the JSON route since becomes a commit first.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SourceFiles } from '../platform/source-tree';
import { writeSourceTree } from '../platform/source-tree';
import { git, gitEnv, runGit } from './git-command';

export const DEFAULT_BRANCH = 'refs/heads/master';

export interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  size: number; // -1 for entries that are not blobs
  path: string;
}

export interface GitReposOptions {
  reposDir: string;
  maxRequestBytes: number;
}

const blobSha = (text: string): string => {
  const body = Buffer.from(text, 'utf8');
  return createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
};

// Beacon's hook program decides; run by hand (without Beacon's environment) a hook refuses.
const HOOK = (phase: string) => `#!/bin/sh\n[ -n "$BEACON_GIT_HOOK" ] || { echo "pushes go through Beacon only" >&2; exit 1; }\nexec "$BEACON_NODE" "$BEACON_GIT_HOOK" ${phase}\n`;

export class GitRepos {
  constructor(private readonly o: GitReposOptions) {}

  dir(algorithmId: string): string {
    return join(this.o.reposDir, `${algorithmId}.git`);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return gitEnv(this.o.reposDir, extra);
  }

  /** The repository, created if needed, with the database source as its newest commit. */
  async ensure(algorithmId: string, files: SourceFiles): Promise<string> {
    const dir = this.dir(algorithmId);
    if (!existsSync(join(dir, 'HEAD'))) await this.create(dir);
    try {
      await this.sync(dir, files);
    } catch {
      // Another request committed (or a push landed) between our read and our compare-and-swap:
      // look again against the new head.
      await this.sync(dir, files);
    }
    return dir;
  }

  async remove(algorithmId: string): Promise<void> {
    await rm(this.dir(algorithmId), { recursive: true, force: true });
  }

  /** Commits `files` on the default branch unless its tree already holds exactly them. */
  async sync(dir: string, files: SourceFiles): Promise<string> {
    const head = await this.head(dir);
    if (head) {
      const entries = await this.listTree(dir, head);
      const same = entries.length === Object.keys(files).length && entries.every((e) => e.type === 'blob' && files[e.path] !== undefined && blobSha(files[e.path]) === e.sha);
      if (same) return head;
    }
    return this.commit(dir, files, head, head ? 'Source updated through the Beacon API' : 'Initial source');
  }

  async head(dir: string): Promise<string | undefined> {
    const r = await runGit(['rev-parse', '--verify', '-q', `${DEFAULT_BRANCH}^{commit}`], { env: this.env({ GIT_DIR: dir }) });
    return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
  }

  /** Every entry of a commit's tree, recursively; `env` may point at a push's quarantine. */
  async listTree(dir: string, rev: string, env: Record<string, string> = {}): Promise<TreeEntry[]> {
    const out = await git(['ls-tree', '-r', '-l', '-z', '--full-tree', rev], { env: this.env({ ...env, GIT_DIR: dir }) });
    return out
      .toString('utf8')
      .split('\0')
      .filter((l) => l.length > 0)
      .map((line) => {
        const tab = line.indexOf('\t');
        const [mode, type, sha, size] = line.slice(0, tab).split(/\s+/);
        return { mode, type, sha, size: size === '-' ? -1 : Number(size), path: line.slice(tab + 1) };
      });
  }

  /** The blobs' bytes, by sha (`git cat-file --batch`). */
  async readBlobs(dir: string, shas: string[], env: Record<string, string> = {}): Promise<Map<string, Buffer>> {
    const out = await git(['cat-file', '--batch'], { env: this.env({ ...env, GIT_DIR: dir }), input: shas.map((s) => `${s}\n`).join('') });
    const blobs = new Map<string, Buffer>();
    let at = 0;
    for (const sha of shas) {
      const nl = out.indexOf(10, at);
      const [got, type, size] = out.subarray(at, nl).toString('utf8').split(' ');
      if (got !== sha || type !== 'blob') throw new Error(`object ${sha} is not a blob`);
      const start = nl + 1;
      blobs.set(sha, out.subarray(start, start + Number(size)));
      at = start + Number(size) + 1;
    }
    return blobs;
  }

  private async create(dir: string): Promise<void> {
    await mkdir(this.o.reposDir, { recursive: true, mode: 0o700 });
    const tmp = `${dir}.tmp-${randomUUID()}`;
    try {
      const env = this.env();
      await git(['init', '-q', '--bare', '-b', 'master', tmp], { env });
      const settings: Array<[string, string]> = [
        ['http.receivepack', 'true'],
        ['http.uploadpack', 'true'],
        ['receive.fsckObjects', 'true'], // refuses '..' and other malformed tree entries itself
        ['receive.denyDeletes', 'true'],
        ['receive.maxInputSize', String(this.o.maxRequestBytes)],
        ['gc.auto', '0'],
      ];
      for (const [k, v] of settings) await git(['config', k, v], { env: this.env({ GIT_DIR: tmp }) });
      for (const phase of ['pre-receive', 'post-receive']) {
        const path = join(tmp, 'hooks', phase);
        await writeFile(path, HOOK(phase));
        await chmod(path, 0o755);
      }
      await rename(tmp, dir); // two first accesses at once: one rename wins, the other finds HEAD
    } catch (e) {
      if (!existsSync(join(dir, 'HEAD'))) throw e;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async commit(dir: string, files: SourceFiles, parent: string | undefined, message: string): Promise<string> {
    const tmp = await mkdtemp(join(this.o.reposDir, '.work-'));
    try {
      const work = join(tmp, 'tree');
      await mkdir(work);
      await writeSourceTree(work, files);
      const env = this.env({ GIT_DIR: dir, GIT_WORK_TREE: work, GIT_INDEX_FILE: join(tmp, 'index') });
      await git(['add', '-A', '.'], { env, cwd: work });
      const tree = (await git(['write-tree'], { env })).toString('utf8').trim();
      const commit = (await git(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', message], { env })).toString('utf8').trim();
      // Compare-and-swap: a push that landed meanwhile wins, and the next access commits again.
      await git(['update-ref', DEFAULT_BRANCH, commit, parent ?? ''], { env });
      return commit;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
