// Fault tier: reads a topic until every expected request id arrived (or a hard time bound) and
// checks the delivery promise: at least once, and exactly once after deduplicating by ce_id.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { plaintextClient, type KafkaInfo } from './kafka';

export interface Delivery {
  messages: number; // messages read, duplicates included
  distinct: number; // distinct ce_id values
  duplicates: number; // messages - distinct
  missing: string[]; // expected ids never read
  unexpected: string[]; // ids read that were not expected
  /** Messages whose ce_id header differs from the request_id in the payload. */
  mismatched: number;
}

/**
 * Consumes `topic` from the beginning with a fresh group until every id in `expected` was read or
 * `timeoutMs` passed; after the last expected id it keeps reading for `settleMs` to catch late
 * duplicates. Returns what was read, compared with `expected`.
 */
export async function consumeDelivery(
  info: KafkaInfo,
  topic: string,
  expected: Set<string>,
  opts: { timeoutMs: number; settleMs?: number },
): Promise<Delivery> {
  const counts = new Map<string, number>();
  let messages = 0;
  let mismatched = 0;
  let missingCount = expected.size;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const hardTimer = setTimeout(finish, opts.timeoutMs);
  let settleTimer: NodeJS.Timeout | undefined;
  const armSettle = () => {
    settleTimer ??= setTimeout(finish, opts.settleMs ?? 2_000);
  };
  if (missingCount === 0) armSettle();

  const consumer = plaintextClient(info, 'beacon-fault-consumer').consumer({ groupId: `beacon-fault-${randomUUID()}`, maxWaitTimeInMs: 250 });
  let stopped = false;
  const running = (async () => {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (stopped) return;
        messages++;
        const ceId = message.headers?.ce_id?.toString() ?? '';
        try {
          if (JSON.parse(message.value?.toString() ?? '').request_id !== ceId) mismatched++;
        } catch {
          mismatched++;
        }
        const seen = counts.get(ceId) ?? 0;
        counts.set(ceId, seen + 1);
        if (seen === 0 && expected.has(ceId) && --missingCount === 0) armSettle();
      },
    });
  })();
  running.catch(() => undefined);
  try {
    await Promise.race([running, finished]);
    await finished;
  } finally {
    stopped = true;
    clearTimeout(hardTimer);
    clearTimeout(settleTimer);
    await consumer.disconnect().catch(() => undefined);
  }
  return {
    messages,
    distinct: counts.size,
    duplicates: messages - counts.size,
    missing: [...expected].filter((id) => !counts.has(id)),
    unexpected: [...counts.keys()].filter((id) => !expected.has(id)),
    mismatched,
  };
}

/** Every expected id at least once, nothing else, ce_id equal to the payload's request_id. */
export function assertExactlyOnceAfterDedup(d: Delivery, expected: Set<string>): void {
  assert.equal(d.missing.length, 0, `${d.missing.length} of ${expected.size} answered calls never reached Kafka, e.g. ${d.missing.slice(0, 5).join(', ')}`);
  assert.equal(d.unexpected.length, 0, `${d.unexpected.length} payloads for request ids no answered call had, e.g. ${d.unexpected.slice(0, 5).join(', ')}`);
  assert.equal(d.distinct, expected.size, 'distinct ce_id count equals the number of answered calls');
  assert.equal(d.mismatched, 0, 'every ce_id header equals the payload request_id');
}
