// WorkerCgroup.procsText on this host's real cgroups (root only): every read shows the processes
// of that moment, on the v1 hierarchy (a fresh descriptor each time: v1 caches the list of a
// re-read one) and through the v2 tracking hierarchy of a hybrid host (one descriptor, re-read).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { CgroupParent, detectCgroups, parsePids, type CgroupLayout } from '../../src/execution/worker-cgroup';

const detected = detectCgroups();
const layout = 'version' in detected ? detected : undefined;
const skip = process.getuid?.() !== 0 || layout?.version !== 'v1' ? 'needs root and cgroup v1' : false;

async function listsEachMoment(l: CgroupLayout): Promise<void> {
  const parent = new CgroupParent(l);
  const cg = parent.create('leaf', { memoryBytes: 256 * 1024 * 1024, maxProcesses: 16, cpuShares: 1024 });
  const children: ChildProcess[] = [];
  const join = () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    for (const f of cg.procsFiles) writeFileSync(f, String(child.pid));
    children.push(child);
    return child.pid as number;
  };
  try {
    const first = join();
    assert.deepEqual(parsePids(cg.procsText()), [first]);
    const second = join();
    assert.deepEqual(parsePids(cg.procsText()).sort(), [first, second].sort(), 'a process that joined after the last read is listed');
    const gone = once(children[0], 'exit');
    children[0].kill('SIGKILL');
    await gone;
    assert.deepEqual(parsePids(cg.procsText()), [second], 'a process that ended is not');
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    cg.remove();
    parent.remove();
  }
}

test('cgroup v1 hierarchy: each read lists the processes of that moment', { skip }, async () => {
  const { tracking: _t, ...v1Only } = (layout as CgroupLayout).roots;
  await listsEachMoment({ version: 'v1', roots: v1Only });
});

test('v2 tracking hierarchy beside v1 (hybrid host): each read lists the processes of that moment', { skip: skip || (!layout?.roots.tracking && 'no v2 hierarchy beside v1') }, async () => {
  await listsEachMoment(layout as CgroupLayout);
});
