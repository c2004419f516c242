import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../src/platform/errors';
import { MarkerCodec, pageLink } from '../../src/algorithms/paging';

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return undefined;
};

describe('paging markers', () => {
  const secret = Buffer.alloc(32, 7);
  const codec = new MarkerCodec(secret);

  test('a marker decodes to its position in its own scope only', () => {
    const m = codec.encode('versions:a', '42');
    assert.equal(codec.decode('versions:a', m), '42');
    assert.equal(codeOf(() => codec.decode('versions:b', m)), 5002);
    assert.equal(codeOf(() => new MarkerCodec(Buffer.alloc(32, 8)).decode('versions:a', m)), 5002);
  });

  test('garbled or edited markers are 5002', () => {
    const m = codec.encode('s', '42');
    const [payload, sig] = m.split('.');
    const forged = `${Buffer.from(JSON.stringify({ p: '1' })).toString('base64url')}.${sig}`;
    for (const bad of ['', 'x', 'abc.def', `${payload}.`, `${payload}.${sig}x`, forged, `${payload}.${'A'.repeat(22)}`, m.replace('.', '..')]) {
      assert.equal(codeOf(() => codec.decode('s', bad)), 5002, bad);
    }
  });

  test('limit: default 50, 1..100, anything else 5003', () => {
    assert.equal(codec.page('s', {}).limit, 50);
    assert.equal(codec.page('s', { limit: '1' }).limit, 1);
    assert.equal(codec.page('s', { limit: '100' }).limit, 100);
    for (const bad of ['0', '101', '1000000000', '-1', '1.5', 'ten', '', ['1', '2']]) {
      assert.equal(codeOf(() => codec.page('s', { limit: bad })), 5003, String(bad));
    }
  });

  test('paged: a marker only when another page exists', () => {
    const page = { limit: 2 };
    const link = (m: string) => `next?${m}`;
    const full = codec.paged('s', page, [1, 2, 3], String, (n) => n * 10, link);
    assert.deepEqual(full.results, [10, 20]);
    assert.equal(codec.decode('s', full.marker!), '2');
    assert.equal(full.next_link, `next?${full.marker}`);
    const last = codec.paged('s', page, [1, 2], String, (n) => n, link);
    assert.deepEqual(last, { marker: null, next_link: null, results: [1, 2] });
  });

  test('pageLink keeps the filters and drops what is unset', () => {
    assert.equal(pageLink('http://h', '/v1/x', { limit: 5, published: true, callable: undefined, marker: 'a.b' }), 'http://h/v1/x?limit=5&published=true&marker=a.b');
  });
});
