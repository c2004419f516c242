import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pathProblem, SOURCE_LIMITS, treeProblems } from '../../src/platform/source-tree';
import { commitSha } from '../../src/algorithms/commit-sha';

describe('source tree rules', () => {
  test('ordinary relative paths pass', () => {
    for (const p of ['src/Hello.py', 'src/__init__.py', 'requirements.txt', 'src/a/b/c.js', '.gitignore', 'src/.hidden/x.r']) {
      assert.equal(pathProblem(p), undefined, p);
    }
  });

  test('escaping, absolute and odd paths are refused', () => {
    const bad = ['', '/etc/passwd', '../x', 'src/../../x', 'src/..', 'a//b', './a', 'a/./b', 'a/', 'a\\b', 'a\u0000b', 'a\nb', 'C:/x', 'x'.repeat(256)];
    for (const p of bad) assert.ok(pathProblem(p), JSON.stringify(p));
  });

  test('count and size limits', () => {
    assert.deepEqual(treeProblems({ 'src/a.py': 'x' }), []);
    assert.match(treeProblems({}).join(), /at least one file/);
    const many = Object.fromEntries(Array.from({ length: SOURCE_LIMITS.maxFiles + 1 }, (_, i) => [`f${i}.py`, '']));
    assert.match(treeProblems(many).join(), /201 files/);
    assert.match(treeProblems({ big: 'x'.repeat(SOURCE_LIMITS.maxFileBytes + 1) }).join(), /a file may have at most/);
    // Multi-byte characters count as bytes, not as characters.
    assert.match(treeProblems({ big: 'é'.repeat(SOURCE_LIMITS.maxFileBytes / 2 + 1) }).join(), /a file may have at most/);
    const six = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`f${i}`, 'x'.repeat(SOURCE_LIMITS.maxFileBytes)]));
    assert.match(treeProblems(six).join(), /in total/);
  });

  test('a path that is also a directory is refused', () => {
    assert.match(treeProblems({ src: 'x', 'src/a.py': 'y' }).join(), /both a file and a directory/);
    assert.match(treeProblems({ 'a/b': 'x', 'a/b/c/d': 'y', 'a.b': '' }).join(), /"a\/b" is both/);
  });
});

describe('commitSha', () => {
  const files = { 'src/a.py': 'print(1)\n', 'src/__init__.py': '' };

  test('40 hex, independent of key order, dependent on content, paths and parent', () => {
    const sha = commitSha(files, undefined);
    assert.match(sha, /^[0-9a-f]{40}$/);
    assert.equal(commitSha({ 'src/__init__.py': '', 'src/a.py': 'print(1)\n' }, undefined), sha);
    assert.notEqual(commitSha({ ...files, 'src/a.py': 'print(2)\n' }, undefined), sha);
    assert.notEqual(commitSha({ 'src/b.py': 'print(1)\n', 'src/__init__.py': '' }, undefined), sha);
    assert.notEqual(commitSha(files, sha), sha);
    assert.equal(commitSha(files, sha), commitSha(files, sha));
  });

  test('the encoding is unambiguous (a path/content boundary cannot shift)', () => {
    assert.notEqual(commitSha({ ab: 'c' }, undefined), commitSha({ a: 'bc' }, undefined));
    assert.notEqual(commitSha({ a: 'x\n1:b\n1:y' }, undefined), commitSha({ a: 'x', b: 'y' }, undefined));
  });
});
