import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveTail } from '../../src/insights/live-tail';
import type { OutboxEntry } from '../../src/insights/outbox-store';

const entry = (n: number, name = 'Algo'): OutboxEntry => ({
  requestId: `req-${n}`,
  messageKey: 'k',
  ceSource: 's',
  eventTime: new Date(0).toISOString(),
  payload: JSON.stringify({ request_id: `req-${n}`, algorithm_owner: 'ana', algorithm_name: name, algorithm_version: '1.0.0', cats: n }),
});

test('keeps at most `capacity` entries, the newest, newest first', () => {
  const tail = new LiveTail(5);
  tail.waiting(Array.from({ length: 12 }, (_, i) => entry(i)));
  const { entries, capacity } = tail.list();
  assert.equal(capacity, 5);
  assert.deepEqual(entries.map((e) => e.request_id), ['req-11', 'req-10', 'req-9', 'req-8', 'req-7']);
});

test('a delivered payload updates its entry (one per payload) and moves it to the front', () => {
  const tail = new LiveTail(10);
  tail.waiting([entry(1), entry(2)]);
  tail.delivered([entry(1)]);
  const { entries } = tail.list();
  assert.deepEqual(entries.map((e) => [e.request_id, e.state]), [['req-1', 'delivered'], ['req-2', 'waiting']]);
  // A late "waiting" for a payload already delivered does not turn it back.
  tail.waiting([entry(1)]);
  assert.equal(tail.list().entries.find((e) => e.request_id === 'req-1')?.state, 'delivered');
});

test('filters by algorithm (case-insensitive) and by seq', () => {
  const tail = new LiveTail(10);
  tail.waiting([entry(1, 'One'), entry(2, 'Two')]);
  const first = tail.list();
  assert.deepEqual(tail.list({ algorithm: 'ANA/one' }).entries.map((e) => e.request_id), ['req-1']);
  assert.deepEqual(tail.list({ after: first.last_seq }).entries, []);
  tail.delivered([entry(2, 'Two')]);
  assert.deepEqual(tail.list({ after: first.last_seq }).entries.map((e) => e.request_id), ['req-2']);
});

test('a payload that is not a JSON object is kept as text, bounded', () => {
  const tail = new LiveTail(2);
  tail.waiting([{ ...entry(1), payload: `not json ${'x'.repeat(500)}` }]);
  const [e] = tail.list().entries;
  assert.equal(e.algorithm, '/');
  assert.ok(String(e.payload.unparsable).length <= 200);
});
