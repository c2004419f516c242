// Build checks against the real toolchains: python3 compile(), node --check, R parse().
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { LANGUAGES, entryPath, helloWorldSource, normaliseLanguage, type Language } from '../../src/platform/language-catalogue';
import { syntaxCheck } from '../../src/algorithms/build-check';

const opts = {
  pythonBin: '/usr/bin/python3',
  rscriptBin: execFileSync('/bin/sh', ['-c', 'command -v Rscript'], { encoding: 'utf8' }).trim(),
  timeoutMs: 20_000,
};

const BROKEN: Record<Language, { files: Record<string, string>; error: RegExp }> = {
  python3: {
    files: { 'src/Hello.py': 'def apply(input):\n    return "Hello " + input\n', 'src/util.py': 'def f(:\n    pass\n' },
    error: /File "src\/util\.py", line 1[\s\S]*SyntaxError/,
  },
  javascript: {
    files: { 'src/Hello.js': 'exports.apply = function(input) {\n  return "Hello " + input;\n', 'src/util.js': '' },
    error: /src\/Hello\.js:3[\s\S]*SyntaxError: Unexpected end of input/,
  },
  r: {
    files: { 'src/Hello.r': 'apply <- function(input) {\n  paste0("Hello ", input)\n', 'src/util.R': 'f <- function() 1\n' },
    error: /src\/Hello\.r:3:0: unexpected end of input/,
  },
};

const NO_APPLY: Record<Language, Record<string, string>> = {
  python3: { 'src/Hello.py': 'def apply_later(input):\n    return input\n' },
  javascript: { 'src/Hello.js': 'exports.run = function(input) { return input; };\n' },
  // base R has an `apply` function: the check must look for a definition in the file.
  r: { 'src/Hello.r': 'x <- apply(matrix(1:4, 2), 1, sum)\n' },
};

describe('language names', () => {
  test('normaliseLanguage accepts the spellings clients send', () => {
    const cases: Array<[string, Language | undefined]> = [
      ['python3', 'python3'], ['python3-1', 'python3'], ['Python', 'python3'], ['javascript', 'javascript'],
      ['nodejs', 'javascript'], ['r', 'r'], ['R', 'r'], ['java', undefined], ['', undefined], ['toString', undefined],
    ];
    for (const [input, expected] of cases) assert.equal(normaliseLanguage(input), expected, input);
    assert.equal(normaliseLanguage(42), undefined);
    assert.deepEqual([...LANGUAGES], ['python3', 'javascript', 'r']);
  });

  test('entry points follow the Algorithmia convention', () => {
    assert.equal(entryPath('python3', 'Hello'), 'src/Hello.py');
    assert.equal(entryPath('javascript', 'Hello'), 'src/Hello.js');
    assert.equal(entryPath('r', 'Hello'), 'src/Hello.r');
  });
});

for (const lang of LANGUAGES) {
  describe(`syntaxCheck ${lang}`, () => {
    test('the hello-world template passes', async () => {
      const files = helloWorldSource(lang, 'Hello');
      assert.ok(files[entryPath(lang, 'Hello')].includes('hello '));
      const r = await syntaxCheck(lang, files, 'Hello', opts);
      assert.equal(r.ok, true, r.logs);
      assert.match(r.logs, /^Building algorithm/);
      assert.match(r.logs, /Success!\n$/);
    });

    test('a syntax error fails with the compiler message naming the file', async () => {
      const r = await syntaxCheck(lang, BROKEN[lang].files, 'Hello', opts);
      assert.equal(r.ok, false);
      assert.match(r.logs, BROKEN[lang].error);
      assert.match(r.logs, /Build failed\.\n$/);
      assert.doesNotMatch(r.logs, /beacon-check-/, 'no temporary paths in the logs');
    });

    test('an entry file without apply fails', async () => {
      const r = await syntaxCheck(lang, NO_APPLY[lang], 'Hello', opts);
      assert.equal(r.ok, false, r.logs);
      assert.match(r.logs, /does not define/);
    });

    test('a missing entry file fails', async () => {
      const r = await syntaxCheck(lang, helloWorldSource(lang, 'Other'), 'Hello', opts);
      assert.equal(r.ok, false);
      assert.match(r.logs, new RegExp(`Entry file src/Hello\\.${lang === 'python3' ? 'py' : lang === 'r' ? 'r' : 'js'} is missing`));
    });
  });
}

describe('syntaxCheck safety', () => {
  test('paths that would escape the build directory are refused', async () => {
    for (const path of ['../evil.py', '/etc/evil.py', 'src/../../evil.py', 'src//x.py']) {
      const files = { ...helloWorldSource('python3', 'Hello'), [path]: 'x = 1\n' };
      const r = await syntaxCheck('python3', files, 'Hello', opts);
      assert.equal(r.ok, false, path);
      assert.match(r.logs, /invalid source file path/);
    }
  });

  test('the check is bounded by a timeout', async () => {
    const r = await syntaxCheck('r', helloWorldSource('r', 'Hello'), 'Hello', { ...opts, timeoutMs: 1 });
    assert.equal(r.ok, false);
    assert.match(r.logs, /timed out/);
  });

  test('checking never runs the code', async () => {
    const files = { 'src/Hello.py': 'import os\nos.mkdir("ran")\ndef apply(input):\n    return input\n' };
    const r = await syntaxCheck('python3', files, 'Hello', opts);
    assert.equal(r.ok, true, r.logs);
    const js = { 'src/Hello.js': 'process.exit(3);\nexports.apply = (x) => x;\n' };
    assert.equal((await syntaxCheck('javascript', js, 'Hello', opts)).ok, true);
  });
});
