import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isJsonValue, isJsonValueAsync } from '../../src/execution/raw-json';

// The validator guards what is spliced into Beacon's answers: it must agree with JSON.parse exactly.
const parses = (s: string) => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};

test('isJsonValue accepts exactly what JSON.parse accepts', () => {
  const good = ['1', '-0.5e+3', '"a\\u00e9\\n"', '[]', '{}', '[ ]', '{ }', '{"a":[1,{"b":null}],"c":true}', ' [1, 2 , 3] ', '"\\ud800"', '{"a":{}}'];
  const bad = ['', '01', '[1,]', '{"a":1,}', '{"a"}', '{a:1}', '[1] 2', '1,"metadata":{}', '"a', '"\u0001"', 'tru', '[1', '{"a":1', '"\\x"', '-', '1.', '1e', '[}', '{]', '1}', '{"a":1}}'];
  for (const g of good) assert.ok(isJsonValue(g), g);
  for (const b of bad) assert.ok(!isJsonValue(b), JSON.stringify(b));
  assert.ok(isJsonValue(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'deep nesting needs no recursion');
  fc.assert(fc.property(fc.json(), (j) => isJsonValue(j)), { seed: 9, numRuns: 2000 });
  fc.assert(fc.property(fc.string(), (s) => isJsonValue(s) === parses(s)), { seed: 9, numRuns: 5000 });
  fc.assert(
    fc.property(fc.json(), fc.nat(), fc.constantFrom(',', '}', ']', '"', ':', '{', '[', ' ', '1', 'x', '\\'), (j, n, ins) => {
      const at = n % (j.length + 1);
      const s = j.slice(0, at) + ins + j.slice(at);
      return isJsonValue(s) === parses(s);
    }),
    { seed: 9, numRuns: 5000 },
  );
});

test('a 9.9 MB result of 3.3 million values is checked without building it', () => {
  const big = `[${Array.from({ length: 3_300_000 }, () => '{}').join(',')}]`;
  assert.ok(isJsonValue(big));
  assert.ok(!isJsonValue(`${big.slice(0, -1)},"x":1}`));
});

test('isJsonValueAsync gives the same answers in slices', async () => {
  for (const [s, ok] of [['[1, {"a": [true, null]}, "x"]', true], ['[1, {"a": [true, null]}, "x"', false], ['{"a":1}}', false]] as const) {
    for (const slice of [1, 3, 1000]) assert.equal(await isJsonValueAsync(s, 0, s.length, slice), ok, `${s} / ${slice}`);
  }
});
