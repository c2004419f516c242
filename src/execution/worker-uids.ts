import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { chown, readdir } from 'node:fs/promises';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../platform/process-alive';

/**
 * Host-wide claims on worker uids: a uid is a directory under a root-only dir, created atomically,
 * holding the claimant's pid. Pools in this process or in another Beacon on the host therefore
 * never share a uid (sharing would let one worker read another's files, and the uid sweep of one
 * would kill the other's processes). A claim whose process is gone is stale and taken over.
 */
export class UidClaims {
  private next: number;
  private dirChecked = false;
  constructor(private readonly dir: string, private readonly low: number, private readonly high: number) {
    this.next = low + randomInt(high - low + 1); // spread pools over the range
  }

  claim(): number | undefined {
    this.checkDir();
    for (let i = 0; i <= this.high - this.low; i++) {
      const uid = this.next;
      this.next = uid >= this.high ? this.low : uid + 1; // round robin: reuse a uid as late as possible
      if (this.tryClaim(uid)) return uid;
    }
    return undefined;
  }

  /** Claims left by processes that are gone (a crashed Beacon): their uids may still run processes. */
  stale(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .map(Number)
      .filter((uid) => Number.isInteger(uid) && uid >= this.low && uid <= this.high)
      .filter((uid) => {
        try {
          return !isAlive(Number(readFileSync(join(this.dir, String(uid), 'owner'), 'utf8')));
        } catch {
          return false;
        }
      });
  }

  release(uid: number): void {
    try {
      rmSync(join(this.dir, String(uid)), { recursive: true, force: true });
    } catch {
      // left behind, it is stale once this process is gone
    }
  }

  private tryClaim(uid: number): boolean {
    const path = join(this.dir, String(uid));
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = Number.NaN;
      try {
        owner = Number(readFileSync(join(path, 'owner'), 'utf8'));
      } catch {
        return false; // being claimed right now
      }
      if (isAlive(owner)) return false;
    }
    writeFileSync(join(path, 'owner'), String(process.pid));
    return true;
  }

  private checkDir(): void {
    if (this.dirChecked) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(this.dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
      throw new Error(`${this.dir} must be a directory owned by the service and writable by it alone`);
    }
    this.dirChecked = true;
  }
}


/**
 * Kills every process running as a worker uid, e.g. a daemon that left the process group with
 * setsid: kill(-1) sent from that uid reaches exactly the processes of that uid. Run before a uid
 * is first used and after its worker is gone.
 */
export function sweepUid(uid: number): Promise<void> {
  if (uid <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', 'kill -9 -1 2>/dev/null; exit 0'], { uid, gid: uid, env: {}, stdio: 'ignore', cwd: '/' });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}

/** Gives a worker uid its working directory, recursively. */
export async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid);
    else await chown(path, uid, uid);
  }
}
