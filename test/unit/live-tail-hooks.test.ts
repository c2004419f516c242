// The outbox sink's live-tail hook reports exactly the payloads that were stored, under both
// overflow policies (the store keeps a batch's first rows under 'reject', its last under 'drop-oldest').
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { InsightsRecord } from '../../src/insights/insights-sink';
import { OutboxSink } from '../../src/insights/outbox-sink';
import type { OutboxEntry, OverflowPolicy } from '../../src/insights/outbox-store';

const record = (i: number): InsightsRecord => ({
  requestId: `req-${i}`,
  sessionId: `rses-${i}`,
  time: new Date('2026-01-02T03:04:05.678Z'),
  durationMs: i,
  owner: 'ana',
  name: 'Counter',
  version: '1.0.0',
  metrics: { n: i },
});

async function storedUnder(policy: OverflowPolicy, room: number): Promise<string[]> {
  const seen: string[] = [];
  const sink = new OutboxSink({
    outbox: { insertBatch: async (entries: OutboxEntry[]) => ({ inserted: Math.min(room, entries.length), dropped: Math.max(0, entries.length - room) }) },
    maxBacklog: room,
    overflowPolicy: policy,
    logger: pino({ level: 'silent' }),
    onAccepted: () => undefined,
    onDropped: () => undefined,
    onStoredEntries: (entries) => seen.push(...entries.map((e) => e.requestId)),
  });
  await Promise.all([0, 1, 2, 3, 4].map((i) => sink.accept(record(i))));
  await sink.flush();
  return seen;
}

test("'reject' reports the first rows of a batch that fit", async () => {
  assert.deepEqual(await storedUnder('reject', 3), ['req-0', 'req-1', 'req-2']);
});

test("'drop-oldest' reports the newest rows of a batch", async () => {
  assert.deepEqual(await storedUnder('drop-oldest', 2), ['req-3', 'req-4']);
});

test('nothing stored, nothing reported', async () => {
  assert.deepEqual(await storedUnder('reject', 0), []);
});
