// The rules for a pushed tree, and reading the key from HTTP basic authentication.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TreeEntry } from '../../src/git/git-repos';
import { basicKey } from '../../src/git/git-service';
import { entryProblems, textTree } from '../../src/git/pushed-tree';

const blob = (path: string, size = 3, sha = 'a'.repeat(40)): TreeEntry => ({ mode: '100644', type: 'blob', sha, size, path });

test('symlinks, submodules, traversal, oversize and too many files are refused from the listing', () => {
  assert.deepEqual(entryProblems([blob('src/a.py')]), []);
  assert.match(entryProblems([{ ...blob('src/x'), mode: '120000' }]).join(), /symbolic link/);
  assert.match(entryProblems([{ mode: '160000', type: 'commit', sha: 'b'.repeat(40), size: -1, path: 'vendor' }]).join(), /submodule/);
  assert.match(entryProblems([blob('../etc/passwd')]).join(), /'\.\.' segment/);
  assert.match(entryProblems([blob('src/big.py', 2 * 1024 * 1024)]).join(), /at most 1048576/);
  assert.match(entryProblems(Array.from({ length: 201 }, (_, i) => blob(`f${i}.py`))).join(), /at most 200/);
});

test('binary content is refused; UTF-8 text becomes the source', () => {
  const text = textTree([blob('src/a.py', 5, '1'.repeat(40))], new Map([['1'.repeat(40), Buffer.from('x = 1')]]));
  assert.deepEqual(text, { files: { 'src/a.py': 'x = 1' }, problems: [] });
  const nul = textTree([blob('m.bin', 3, '2'.repeat(40))], new Map([['2'.repeat(40), Buffer.from([1, 0, 2])]]));
  assert.match(nul.problems.join(), /"m\.bin" is binary/);
  const latin1 = textTree([blob('l.txt', 2, '3'.repeat(40))], new Map([['3'.repeat(40), Buffer.from([0xe9, 0x41])]]));
  assert.match(latin1.problems.join(), /is binary/);
});

test('basicKey reads the key as the password, or as the user name', () => {
  const b = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal(basicKey(b('alice:simKEY')), 'simKEY');
  assert.equal(basicKey(b('simKEY:')), 'simKEY');
  assert.equal(basicKey(b('simKEY')), 'simKEY');
  assert.equal(basicKey('Simple simKEY'), undefined);
  assert.equal(basicKey(undefined), undefined);
});
