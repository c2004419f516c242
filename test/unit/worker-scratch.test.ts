import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ScratchTmpfs } from '../../src/execution/worker-scratch';

// A real tmpfs directory of this host (/dev/shm), standing in for a sandbox's scratch tmpfs (an
// empty tmpfs directory has size 40: the check is one fstat).
const dir = mkdtempSync('/dev/shm/beacon-scratch-test-');
after(() => rmSync(dir, { recursive: true, force: true }));
let removals = 0;
const scratch = new ScratchTmpfs(dir, async () => {
  removals++;
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
});
after(() => scratch.close());

test('a clean tmpfs settles without removing anything', async () => {
  assert.equal(await scratch.settle(), true);
  assert.equal(await scratch.settle(), true);
  assert.equal(await scratch.settle(), true);
  assert.equal(removals, 0);
});

test('a file left by a call (written just before the call ended) is removed before the next call', async () => {
  writeFileSync(join(dir, 'left-behind'), 'secret of the last caller');
  assert.equal(await scratch.settle(), true);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(removals, 1);
});

test('a flood of writes is one removal, and the tmpfs is clean again', async () => {
  for (let i = 0; i < 2000; i++) writeFileSync(join(dir, `f${i % 2}`), String(i));
  assert.equal(await scratch.settle(), true);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(removals, 2);
  assert.equal(await scratch.settle(), true, 'clean again: nothing more to remove');
  assert.equal(removals, 2);
});

test('an entry made and removed again within a call: checked, found empty, nothing to remove', async () => {
  const before = removals;
  writeFileSync(join(dir, 'x'), '1');
  rmSync(join(dir, 'x'));
  assert.equal(await scratch.settle(), true);
  assert.equal(removals, before);
  writeFileSync(join(dir, 'y'), '1');
  assert.equal(await scratch.settle(), true);
  assert.equal(removals, before + 1);
});
