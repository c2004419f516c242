import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../src/platform/errors';
import { checkBody, checkJsonShape, DEFAULT_BODY_LIMITS, textProblem } from '../../src/platform/text-hygiene';

const refused = (fn: () => void, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && pattern.test(e.message));
const shape = (json: string, limits = {}) => checkJsonShape(Buffer.from(json), { ...DEFAULT_BODY_LIMITS, ...limits });

describe('textProblem', () => {
  test('NUL and lone surrogates are refused; proper pairs and ordinary text are not', () => {
    assert.match(textProblem('a\u0000b') ?? '', /NUL/);
    assert.match(textProblem('x\ud800') ?? '', /surrogate/);
    assert.match(textProblem('\udc00x') ?? '', /surrogate/);
    assert.equal(textProblem('emoji 😀 and é'), undefined);
    assert.equal(textProblem(''), undefined);
  });
});

describe('checkJsonShape (raw bytes, before JSON.parse)', () => {
  test('counts entries per container and depth outside strings', () => {
    shape('{"a":[1,2,3],"b":{"c":"[[[[[[,,,,,]]]"}}', { maxEntries: 3, maxDepth: 3 });
    refused(() => shape('[1,2,3,4]', { maxEntries: 3 }), /more than 3 entries/);
    refused(() => shape('[[[[1]]]]', { maxDepth: 3 }), /nested more than 3 levels/);
    refused(() => shape(`{"files":{${Array.from({ length: 201 }, (_, i) => `"f${i}":""`).join(',')}}}`, { maxEntries: 200 }), /at most 200/);
    refused(() => shape(`[${Array.from({ length: 50 }, () => '[1,1,1]').join(',')}]`, { maxValues: 100 }), /more than 100 values/);
  });

  test('escaped quotes do not end a string; empty containers count nothing', () => {
    shape('["a\\"],[,,,,,", [], {}]', { maxEntries: 3 });
    shape('{}');
    shape('[]');
  });
});

describe('checkBody (parsed value)', () => {
  test('refuses poisoned strings and keys, long keys, and names the field', () => {
    refused(() => checkBody({ details: { label: 'x\u0000' } }), /body\.details\.label contains a NUL/);
    refused(() => checkBody({ files: { 'src/\ud800.py': '' } }), /a key of body\.files contains a lone/);
    refused(() => checkBody({ files: { ['a'.repeat(256)]: '' } }), /longer than 255/);
    checkBody({ name: 'fine', list: [1, 'two', { three: true }] });
  });
});
