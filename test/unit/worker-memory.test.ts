import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MEMORY_POLL_MS, watchCall, type MemoryState } from '../../src/execution/worker-memory';

function fakeState(stallsAtLimit: boolean, exhausted: () => boolean): MemoryState & { reads: number } {
  const s = {
    stallsAtLimit,
    reads: 0,
    memoryExhausted() {
      s.reads++;
      return exhausted();
    },
  };
  return s;
}

test('a call shorter than the poll interval costs no read of its cgroup', async () => {
  const state = fakeState(true, () => true);
  let killed = 0;
  const w = watchCall(state, { kill: () => killed++ });
  await sleep(MEMORY_POLL_MS / 4);
  assert.equal(w.end(), false);
  await sleep(MEMORY_POLL_MS * 2.5); // ended calls are not polled any more
  assert.equal(state.reads, 0);
  assert.equal(killed, 0);
});

test('a call that waits at the memory limit is found by the poll: the worker is killed once, and end() says so', async () => {
  let over = false;
  const state = fakeState(true, () => over);
  let killed = 0;
  const w = watchCall(state, { kill: () => killed++ });
  await sleep(MEMORY_POLL_MS * 2.5);
  assert.equal(killed, 0, 'not exhausted yet');
  assert.ok(state.reads >= 1, 'a long call is polled');
  over = true;
  await sleep(MEMORY_POLL_MS * 3);
  assert.equal(killed, 1, 'killed once');
  assert.equal(w.end(), true);
});

test('a cgroup whose kernel kills the whole worker (v2 memory.oom.group) is never polled', async () => {
  const state = fakeState(false, () => true);
  let killed = 0;
  const w = watchCall(state, { kill: () => killed++ });
  await sleep(MEMORY_POLL_MS * 2.5);
  assert.equal(w.end(), false);
  assert.equal(state.reads, 0);
  assert.equal(killed, 0);
});

test('several calls are watched by one timer, each on its own', async () => {
  const over = fakeState(true, () => true);
  const fine = fakeState(true, () => false);
  const hits: string[] = [];
  const a = watchCall(over, { kill: () => hits.push('over') });
  const b = watchCall(fine, { kill: () => hits.push('fine') });
  await sleep(MEMORY_POLL_MS * 2.5);
  assert.deepEqual(hits, ['over']);
  assert.equal(a.end(), true);
  assert.equal(b.end(), false);
});
