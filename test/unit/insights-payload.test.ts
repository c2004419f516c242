// The hand-written payload serialiser against the plain definition it replaced: JSON.stringify of
// the metrics spread under the operational fields, non-ASCII escaped. Same text for any input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import { buildPayload } from '../../src/insights/payload';

function reference(r: InsightsRecord): string {
  const body = {
    ...r.metrics,
    request_id: r.requestId,
    session_id: r.sessionId,
    time: r.time.toISOString(),
    duration_milliseconds: Math.round(r.durationMs),
    algorithm_owner: r.owner,
    algorithm_name: r.name,
    algorithm_version: r.version,
    ...r.extra,
  };
  return JSON.stringify(body).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const OPERATIONAL = ['request_id', 'session_id', 'time', 'duration_milliseconds', 'algorithm_owner', 'algorithm_name', 'algorithm_version', 'parent_request_id'];
const metricKey = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.fullUnicodeString({ minLength: 1, maxLength: 8 }), fc.nat(1000).map(String), fc.constantFrom('__proto__', 'toString', 'a"b', 'ü', '😺'));
const metricValue = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean());

const recordArb = fc.record({
  requestId: fc.string(),
  sessionId: fc.fullUnicodeString(),
  time: fc.date({ min: new Date(0), max: new Date('2100-01-01') }),
  durationMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
  owner: fc.string(),
  name: fc.fullUnicodeString(),
  version: fc.string(),
  extra: fc.option(fc.record({ parent_request_id: fc.string() }), { nil: undefined }),
  metrics: fc.dictionary(metricKey.filter((k) => !OPERATIONAL.includes(k)), metricValue, { maxKeys: 25 }),
});

test('buildPayload writes exactly what JSON.stringify of the flat object writes, ASCII only', () => {
  fc.assert(
    fc.property(recordArb, (r) => {
      const out = buildPayload(r as InsightsRecord);
      assert.equal(out, reference(r as InsightsRecord));
      assert.ok(/^[\x00-\x7e]*$/.test(out));
      JSON.parse(out);
    }),
    { seed: 20261129, numRuns: 2000 },
  );
});

test('integer-like metric names come first, as in a JavaScript object; the operational fields last', () => {
  const r: InsightsRecord = { requestId: 'req-1', sessionId: 'rses-1', time: new Date(0), durationMs: 1.6, owner: 'o', name: 'n', version: '1.0.0', metrics: { b: 1, 2: true, a: 0.5 } };
  assert.equal(
    buildPayload(r),
    '{"2":true,"b":1,"a":0.5,"request_id":"req-1","session_id":"rses-1","time":"1970-01-01T00:00:00.000Z","duration_milliseconds":2,"algorithm_owner":"o","algorithm_name":"n","algorithm_version":"1.0.0"}',
  );
});

test('an optional extra operational field (parent_request_id of a nested call) is written after the standard ones and wins over a metric of that name', () => {
  const r: InsightsRecord = {
    requestId: 'req-1',
    sessionId: 'rses-1',
    time: new Date('2026-01-01T00:00:00.000Z'),
    durationMs: 3,
    owner: 'a',
    name: 'b',
    version: '1.0.0',
    metrics: { score: 1, parent_request_id: 5 },
    extra: { parent_request_id: 'req-0' },
  };
  assert.equal(
    buildPayload(r),
    '{"score":1,"request_id":"req-1","session_id":"rses-1","time":"2026-01-01T00:00:00.000Z","duration_milliseconds":3,"algorithm_owner":"a","algorithm_name":"b","algorithm_version":"1.0.0","parent_request_id":"req-0"}',
  );
  assert.equal(buildPayload({ ...r, extra: undefined }), reference({ ...r, extra: undefined }), 'without it, the bytes are as before');
});
