import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  mergeReportedMetrics,
  RESERVED_METRIC_NAMES,
  MAX_METRICS_JSON_BYTES,
} from '../../src/insights/reported-metrics';

const pairs = (o: Record<string, unknown>) =>
  Object.entries(o).map(([insight_key, insight_value]) => ({ insight_key, insight_value }));

function expectOk(current: Record<string, number | boolean>, report: unknown) {
  const r = mergeReportedMetrics(current, report);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.metrics;
}

function expectRefused(current: Record<string, number | boolean>, report: unknown, pattern: RegExp) {
  const r = mergeReportedMetrics(current, report);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.message, pattern);
}

describe('mergeReportedMetrics', () => {
  test('accepts the array wire format of the official clients and keeps JSON types', () => {
    const m = expectOk({}, pairs({ cats_in_image: 4, dogs_in_image: 7, approved: true, risk: 0.2 }));
    assert.deepEqual(m, { cats_in_image: 4, dogs_in_image: 7, approved: true, risk: 0.2 });
  });

  test('accepts a plain object as a convenience', () => {
    assert.deepEqual(expectOk({}, { a: 1, b: false }), { a: 1, b: false });
  });

  test('numeric strings (Java client) become numbers', () => {
    const m = expectOk({}, pairs({ a: '4', b: ' -1.5e3 ', c: '.5', d: '+7' }));
    assert.deepEqual(m, { a: 4, b: -1500, c: 0.5, d: 7 });
  });

  test('non-numeric strings, null, objects and non-finite numbers are refused', () => {
    expectRefused({}, pairs({ a: 'hello' }), /"a" must be a number or a boolean/);
    expectRefused({}, pairs({ a: '' }), /"a" must be a number or a boolean/);
    expectRefused({}, pairs({ a: '0x10' }), /must be a number/);
    expectRefused({}, pairs({ a: null }), /must be a number/);
    expectRefused({}, pairs({ a: { b: 1 } }), /must be a number/);
    expectRefused({}, pairs({ a: [1] }), /must be a number/);
    expectRefused({}, { a: Infinity }, /finite/);
    expectRefused({}, { a: NaN }, /finite/);
  });

  test('merges with earlier reports of the same execution; a repeated key keeps the last value', () => {
    const first = expectOk({}, pairs({ a: 1, b: 2 }));
    const second = expectOk(first, pairs({ b: 3, c: 4 }));
    assert.deepEqual(second, { a: 1, b: 3, c: 4 });
    assert.deepEqual(first, { a: 1, b: 2 }, 'input object is not mutated');
  });

  test('every reserved name is refused, and earlier metrics stay', () => {
    for (const name of RESERVED_METRIC_NAMES) {
      const current = { kept: 1 };
      expectRefused(current, pairs({ ok: 2, [name]: 5 }), new RegExp(`"${name}" is reserved`));
      assert.deepEqual(current, { kept: 1 });
    }
  });

  test('keys must be non-empty strings of at most 255 characters', () => {
    expectRefused({}, pairs({ '': 1 }), /non-empty/);
    expectRefused({}, pairs({ ['k'.repeat(256)]: 1 }), /longer than 255/);
    expectOk({}, pairs({ ['k'.repeat(255)]: 1 }));
    expectRefused({}, [{ insight_key: 5, insight_value: 1 }], /insight_key must be a string/);
  });

  test('at most 25 metrics per execution, counting the union of keys', () => {
    const twenty = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`m${i}`, i]));
    const current = expectOk({}, twenty);
    // Re-reporting existing keys does not count twice.
    expectOk(current, pairs({ m0: 1, m1: 2, m2: 3, m3: 4, m4: 5, m5: 6 }));
    const five = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`n${i}`, i]));
    const full = expectOk(current, five);
    assert.equal(Object.keys(full).length, 25);
    expectRefused(full, pairs({ one_more: 1 }), /at most 25 .* would make 26/);
  });

  test('the merged JSON may total at most 25 KiB', () => {
    // 25 keys of at most 255 characters only pass 25 KiB when JSON escaping inflates them:
    // a control character takes 6 bytes ("\\u0001").
    const key = (i: number) => String.fromCharCode(1).repeat(250) + String(i).padStart(5, '0');
    let current: Record<string, number | boolean> = {};
    let i = 0;
    for (; ; i++) {
      const r = mergeReportedMetrics(current, { [key(i)]: i });
      if (!r.ok) {
        assert.match(r.message, /at most 25600 bytes of JSON/);
        break;
      }
      current = r.metrics;
    }
    assert.ok(i > 10 && i < 25, `refused at metric ${i}`);
    assert.ok(Buffer.byteLength(JSON.stringify(current)) <= MAX_METRICS_JSON_BYTES);
    assert.equal(Object.keys(current).length, i, 'accepted metrics survive the refused report');
  });

  test('malformed reports are refused with a clear message', () => {
    expectRefused({}, 'a string', /must be a JSON array/);
    expectRefused({}, null, /must be a JSON array/);
    expectRefused({}, 42, /must be a JSON array/);
    expectRefused({}, [{ insight_key: 'a' }], /insights\[0\] must be an object with "insight_key" and "insight_value"/);
    expectRefused({}, [1], /insights\[0\]/);
  });

  test('an empty array changes nothing', () => {
    assert.deepEqual(expectOk({ a: 1 }, []), { a: 1 });
  });

  test('"__proto__" is stored as a plain key, not a prototype', () => {
    const report = JSON.parse('{"__proto__": 5}');
    const m = expectOk({}, report);
    assert.equal(Object.getPrototypeOf(m), Object.prototype);
    assert.deepEqual(Object.keys(m), ['__proto__']);
  });
});
