import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { DEFAULT_TOOLS } from '../../src/execution/sandbox-command';
import type { WorkerCgroup } from '../../src/execution/worker-cgroup';
import { WorkerSandbox } from '../../src/execution/worker-sandbox';

// endCall's decisions with a fake cgroup; the "process left behind" is a real process of this host.
function sandboxWith(cgroup: { pids?: () => number[]; memoryExhausted?: () => boolean }): WorkerSandbox {
  const pids = cgroup.pids ?? (() => []);
  const fake = { stallsAtLimit: true, memoryExhausted: () => false, ...cgroup, pids, procsText: () => pids().map((p) => `${p}\n`).join('') } as unknown as WorkerCgroup;
  return new WorkerSandbox({ tools: DEFAULT_TOOLS, cgroup: fake, socketPath: '/nonexistent', network: 'isolated', hostAddresses: [] });
}

test('a call that ends with a process left waiting at the memory limit ran out of memory', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    let reads = 0;
    const sb = sandboxWith({ pids: () => [child.pid as number], memoryExhausted: () => ++reads > 0 });
    sb.startCall({ kill() {} });
    const end = sb.endCall(true);
    assert.deepEqual(end, { outOfMemory: true, clean: false });
    assert.equal(reads, 1);
  } finally {
    child.kill('SIGKILL');
  }
});

test('a process left behind with memory to spare is killed before the worker is reused', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  let alive = true;
  child.once('exit', () => (alive = false));
  const sb = sandboxWith({ pids: () => (alive ? [child.pid as number] : []) });
  sb.startCall({ kill() {} });
  const end = sb.endCall(true);
  assert.equal(end.outOfMemory, false);
  assert.ok(end.clean instanceof Promise, 'killing is the slow path');
  await end.clean;
  const [, signal] = await exited;
  assert.equal(signal, 'SIGKILL');
});

test('a worker that died during its call: its cgroup says whether memory was why', () => {
  let reads = 0;
  const sb = sandboxWith({ memoryExhausted: () => ++reads > 0 });
  sb.startCall({ kill() {} });
  assert.deepEqual(sb.endCall(false), { outOfMemory: true, clean: false });
  assert.equal(reads, 1);
});

test('nothing but the runner alive: no memory read at all', () => {
  let reads = 0;
  const sb = sandboxWith({ memoryExhausted: () => ++reads > 0 });
  sb.startCall({ kill() {} });
  const end = sb.endCall(true);
  assert.equal(end.outOfMemory, false);
  assert.equal(reads, 0);
});
