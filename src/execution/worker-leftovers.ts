// Start-up recovery for the worker pool: a Beacon that crashed (kill -9, OOM, power) leaves worker
// folders holding algorithm source, and uid claims whose processes may still run. Swept before
// the first call. WORK_DIR belongs to one Beacon: a second one sharing it would lose its folders.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepUid } from './worker-process';
import type { UidClaims } from './worker-uids';

export async function sweepLeftovers(workRoot: string, uids: UidClaims | undefined): Promise<{ folders: number; uids: number }> {
  let folders = 0;
  for (const name of await readdir(workRoot).catch(() => [] as string[])) {
    if (!name.startsWith('rses-')) continue;
    await rm(join(workRoot, name), { recursive: true, force: true, maxRetries: 3 });
    folders++;
  }
  const stale = uids?.stale() ?? [];
  for (const uid of stale) {
    await sweepUid(uid); // whatever still runs as that uid (a daemon of a dead worker)
    uids?.release(uid);
  }
  return { folders, uids: stale.length };
}
