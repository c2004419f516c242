import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeRecords, encodeRecords, toEntries } from '../../src/insights/outbox-records';

test('batch records round-trip: every field, in order, any characters', () => {
  const entry = fc.record({ requestId: fc.string(), messageKey: fc.string(), ceSource: fc.string(), eventTime: fc.string(), payload: fc.fullUnicodeString() });
  fc.assert(
    fc.property(fc.array(entry, { minLength: 1, maxLength: 50 }), (entries) => {
      const messages = decodeRecords('7', encodeRecords(entries));
      assert.deepEqual(toEntries(messages), entries);
      assert.deepEqual(messages.map((m) => [m.rowId, m.index]), entries.map((_, i) => ['7', i]));
    }),
  );
});

test('a truncated row is an error, not a silently shorter batch', () => {
  const buf = encodeRecords([{ requestId: 'req-1', messageKey: 'a/b', ceSource: '/algorithms/a/b/1', eventTime: 't', payload: '{}' }]);
  assert.throws(() => decodeRecords('1', buf.subarray(0, buf.length - 1)), /truncated/);
});
