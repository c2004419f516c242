import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeRecord, installRecordEncoder, originalRecordEncoder } from '../../src/insights/kafka-record-encoder';

const bytes = fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));

test('the record encoder writes exactly the bytes kafkajs writes', () => {
  const orig = originalRecordEncoder();
  fc.assert(
    fc.property(
      fc.record({
        offsetDelta: fc.integer({ min: 0, max: 1_000_000 }),
        timestampDelta: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
        key: fc.option(bytes, { nil: null }),
        value: fc.option(bytes, { nil: null }),
        headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), bytes, { maxKeys: 8 }),
      }),
      (r) => {
        assert.deepEqual(encodeRecord(r).buffer, orig(r).buffer);
      },
    ),
    { numRuns: 2_000 },
  );
});

test('the six CloudEvents headers, Buffer values: same bytes', () => {
  const headers = {
    ce_specversion: Buffer.from('1.0'),
    ce_id: Buffer.from('req-1'),
    ce_type: 'com.algorithmia.insights.v1',
    ce_source: Buffer.from('/algorithms/a/b/1.0.0'),
    ce_time: '2026-01-01T00:00:00.000Z',
    'content-type': Buffer.from('application/json'),
  };
  const r = { offsetDelta: 7, timestampDelta: 0, key: Buffer.from('a/b'), value: '{"x":1}', headers };
  assert.deepEqual(encodeRecord(r).buffer, originalRecordEncoder()(r).buffer);
});

test('installing replaces the encoder kafkajs loads for produce requests, once', () => {
  installRecordEncoder();
  installRecordEncoder();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require('kafkajs/src/protocol/recordBatch/record/v0') as { fast?: boolean };
  assert.equal(loaded.fast, true);
});
