import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { OutboxSink, toEntry } from '../../src/insights/outbox-sink';
import { OutboxSpool } from '../../src/insights/outbox-spool';
import type { OutboxEntry } from '../../src/insights/outbox-store';
import { createLogger } from '../../src/platform/logger';

const logger = createLogger('silent');
const record = (i: number) => ({
  requestId: `req-${i}`,
  sessionId: 'rses-1',
  time: new Date(0),
  durationMs: 1,
  owner: 'o',
  name: 'n',
  version: '0.1.0',
  metrics: { i },
});

const toEntryFor = (i: number) => toEntry(record(i));

/** A fake outbox whose database can be switched off and on. */
function fakeOutbox() {
  const rows: OutboxEntry[] = [];
  let up = false;
  return {
    rows,
    setUp(v: boolean) {
      up = v;
    },
    async insertBatch(entries: OutboxEntry[]) {
      if (!up) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      rows.push(...entries);
      return { inserted: entries.length, dropped: 0 };
    },
  };
}

test('while the database is down, accepted payloads are spooled to disk and replayed once it is back', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  const outbox = fakeOutbox();
  const spool = new OutboxSpool(dir, { insert: async (e) => void (await outbox.insertBatch(e)) }, logger, 20);
  const sink = new OutboxSink({ outbox, spool, maxBacklog: 1000, overflowPolicy: 'reject', logger, onAccepted: () => {}, onDropped: () => {} });

  await Promise.all([1, 2, 3].map((i) => sink.accept(record(i))));
  assert.equal(outbox.rows.length, 0);
  assert.ok((await spool.pending()) >= 1, 'a spool file is on disk before accept() resolved');

  // A new spool on the same folder (as after a restart) finds the file; the database is still down.
  spool.stop();
  const restarted = new OutboxSpool(dir, { insert: async (e) => void (await outbox.insertBatch(e)) }, logger, 20);
  await assert.rejects(restarted.replay());
  assert.ok((await restarted.pending()) >= 1, 'a failed replay keeps the file');

  outbox.setUp(true);
  assert.equal(await restarted.replay(), 3);
  assert.deepEqual(outbox.rows.map((r) => r.requestId).sort(), ['req-1', 'req-2', 'req-3']);
  assert.equal(await restarted.pending(), 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('replays of one folder never overlap: each spooled payload reaches the outbox once', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  const outbox = fakeOutbox();
  const target = { insert: async (e: OutboxEntry[]) => void (await outbox.insertBatch(e)) };
  const writer = new OutboxSpool(dir, target, logger, 60_000);
  for (let i = 1; i <= 20; i++) await writer.append([toEntryFor(i)]);
  writer.stop();
  outbox.setUp(true);
  const spools = [1, 2, 3].map(() => new OutboxSpool(dir, target, logger, 60_000));
  const moved = await Promise.all(spools.map((s) => s.replay()));
  assert.equal(moved.reduce((a, b) => a + b, 0), 20);
  assert.equal(outbox.rows.length, 20);
  assert.equal(new Set(outbox.rows.map((r) => r.requestId)).size, 20);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the retry timer moves spooled payloads into the outbox by itself', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-'));
  const outbox = fakeOutbox();
  const spool = new OutboxSpool(dir, { insert: async (e) => void (await outbox.insertBatch(e)) }, logger, 20);
  const sink = new OutboxSink({ outbox, spool, maxBacklog: 1000, overflowPolicy: 'reject', logger, onAccepted: () => {}, onDropped: () => {} });
  await sink.accept(record(7));
  outbox.setUp(true);
  for (let i = 0; i < 200 && outbox.rows.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(outbox.rows.map((r) => r.requestId), ['req-7']);
  spool.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('when neither the database nor the spool can take a payload, accept() rejects', async () => {
  const outbox = fakeOutbox();
  // A folder below a regular file cannot be created (ENOTDIR).
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'spool-test-')), 'not-a-folder');
  fs.writeFileSync(file, '');
  const spool = new OutboxSpool(path.join(file, 'spool'), { insert: async () => undefined }, logger, 20);
  const sink = new OutboxSink({ outbox, spool, maxBacklog: 1000, overflowPolicy: 'reject', logger, onAccepted: () => {}, onDropped: () => {} });
  await assert.rejects(sink.accept(record(1)), /ECONNREFUSED/);
});
