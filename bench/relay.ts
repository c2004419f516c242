// Relay and outbox benchmark (numbers, not pass/fail; not part of npm test).
//
//   node --import tsx bench/relay.ts [payloads=100000] [batch=<INSIGHTS_RELAY_BATCH_SIZE or 2000>] [perRow=32]
//
// 1. Outbox write cost: sequential accept() latency (p50/p99) and throughput with 64 concurrent
//    accept() callers, with the relay off (the write path alone).
// 2. Relay drain: fills the outbox with `payloads` payloads in batch rows of `perRow` (what group
//    commit stores under load), in one INSERT, then times the real relay draining it to the real
//    broker (PLAINTEXT listener, fresh topic) and checks the topic's end offsets add up to the
//    payloads sent. Prints payloads/s and peak RSS.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app';
import { BENCH_ADMIN_KEY, benchRecord } from './bench-record';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/platform/logger';
import { bootstrapAdmin } from '../src/users/bootstrap-admin';
import supertest from 'supertest';
import { createTestDb } from '../test/support/db';
import { createTopic, deleteTopic, ensureKafka, plaintextClient } from '../test/support/kafka';

const ADMIN_KEY = BENCH_ADMIN_KEY;
const rows = Number(process.argv[2] ?? 100_000);
const batch = process.argv[3] ?? process.env.INSIGHTS_RELAY_BATCH_SIZE ?? '2000';
const perRow = Number(process.argv[4] ?? 32);
const FIELD = (expr: string) => `int4send(octet_length(convert_to(${expr}, 'UTF8'))) || convert_to(${expr}, 'UTF8')`;

const record = benchRecord;

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const info = await ensureKafka();
  const topic = `bench-relay-${randomUUID().slice(0, 8)}`;
  await createTopic(info, topic, 3);
  const testDb = await createTestDb();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    BEACON_SECRET_KEY: '1'.repeat(64),
    INSIGHTS_RELAY_BATCH_SIZE: batch,
    INSIGHTS_RELAY_IDLE_MS: '50',
    ...(process.env.INSIGHTS_RELAY_LINGER_MS ? { INSIGHTS_RELAY_LINGER_MS: process.env.INSIGHTS_RELAY_LINGER_MS } : {}),
  });
  const beacon = createApp({ config, db: testDb.db, logger: createLogger(config.logLevel), baseUrl: () => 'http://127.0.0.1' });
  await bootstrapAdmin(beacon.users, ADMIN_KEY);
  const sink = beacon.insights.sink;
  try {
    // --- 1. outbox write cost (no relay) ---
    for (let i = 0; i < 500; i++) await sink.accept(record(i)); // warm-up
    const lat: number[] = [];
    for (let i = 0; i < 3_000; i++) {
      const t0 = performance.now();
      await sink.accept(record(i));
      lat.push(performance.now() - t0);
    }
    lat.sort((a, b) => a - b);
    console.log(`outbox write, sequential accept(): p50 ${fmt(pct(lat, 50), 3)} ms, p99 ${fmt(pct(lat, 99), 3)} ms, ${fmt(3_000 / (lat.reduce((a, b) => a + b, 0) / 1000))} payloads/s`);

    const concurrent = 64;
    const total = 64_000;
    let next = 0;
    const clat: number[] = [];
    // Memory while the backlog grows (no relay runs here): it lives in PostgreSQL, not in the heap.
    const rssSamples: number[] = [process.memoryUsage().rss];
    const c0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrent }, async () => {
        while (next < total) {
          const i = next++;
          if (i > 0 && i % (total / 4) === 0) rssSamples.push(process.memoryUsage().rss);
          const t0 = performance.now();
          await sink.accept(record(i));
          clat.push(performance.now() - t0);
        }
      }),
    );
    const cSecs = (performance.now() - c0) / 1000;
    clat.sort((a, b) => a - b);
    console.log(`outbox write, ${concurrent} concurrent callers: ${fmt(total / cSecs)} payloads/s, accept() p50 ${fmt(pct(clat, 50), 2)} ms, p99 ${fmt(pct(clat, 99), 2)} ms`);
    rssSamples.push(process.memoryUsage().rss);
    console.log(`RSS while the backlog grew 0 -> ${fmt(total)}: ${rssSamples.map((r) => fmt(r / 1024 / 1024)).join(' -> ')} MB`);
    await testDb.db.raw('TRUNCATE insights_outbox_batch');

    // --- 2. relay drain ---
    const f0 = performance.now();
    // Batch rows as the sink writes them (src/insights/outbox-records.ts), built in SQL.
    await testDb.db.raw(
      `WITH p AS (
         SELECT g, (g - 1) / ? AS chunk, 'req-' || gen_random_uuid() AS rid, 'bench/algo' || (g % 10) AS k,
                '/algorithms/bench/algo' || (g % 10) || '/1.0.0' AS src, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS t
           FROM generate_series(1, ?) AS g),
       v AS (
         SELECT p.*, json_build_object('risk_score', 0.2, 'approved', true, 'cats_detected', g % 7,
                  'request_id', rid, 'session_id', 'rses-' || gen_random_uuid(), 'time', t, 'duration_milliseconds', 8 + g % 50,
                  'algorithm_owner', 'bench', 'algorithm_name', 'algo' || (g % 10), 'algorithm_version', '1.0.0')::text AS payload
           FROM p),
       chunks AS (
         SELECT chunk, count(*)::int AS n,
                string_agg(${FIELD('rid')} || ${FIELD('k')} || ${FIELD('src')} || ${FIELD('t')} || ${FIELD('payload')}, ''::bytea ORDER BY g) AS records
           FROM v GROUP BY chunk)
       INSERT INTO insights_outbox_batch (payloads, seq_end, records)
       SELECT n, (SELECT max(nextval('insights_payload_seq')) FROM generate_series(1, chunks.n)), records FROM chunks ORDER BY chunk`,
      [perRow, rows],
    );
    await testDb.db.raw('VACUUM ANALYZE insights_outbox_batch');
    console.log(`filled outbox with ${fmt(rows)} payloads (${perRow} per row) in ${fmt((performance.now() - f0) / 1000, 1)} s (batch size ${batch})`);

    const request = supertest(beacon.app);
    await request
      .post('/v1/admin/insights-connection')
      .set('Authorization', `Simple ${ADMIN_KEY}`)
      .send({ connection_type: 'kafka_unauthenticated_plaintext', broker_url: info.plaintext, topic })
      .expect(200);
    const before = process.memoryUsage().rss;
    const d0 = performance.now();
    beacon.insights.start();
    // Poll with a cheap EXISTS so the measurement is the relay's work, not the status query's.
    const pending = async () => (await testDb.db.raw('SELECT EXISTS (SELECT 1 FROM insights_outbox_batch) AS e')).rows[0].e as boolean;
    while (await pending()) await new Promise((r) => setTimeout(r, 20));
    const dSecs = (performance.now() - d0) / 1000;
    const status = await beacon.insights.status();
    await beacon.insights.stop();
    const admin = plaintextClient(info, 'bench-offsets').admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const inTopic = offsets.reduce((s, o) => s + Number(o.high), 0);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(
      `relay drain: ${fmt(rows)} payloads in ${fmt(dSecs, 2)} s = ${fmt(rows / dSecs)} payloads/s; ` +
        `topic holds ${fmt(inTopic)} messages; delivered counter ${fmt(status.delivered)}, failed ${status.failed}; ` +
        `peak RSS ${fmt(peakRssMb)} MB (rss before drain ${fmt(before / 1024 / 1024)} MB)`,
    );
  } finally {
    await beacon.insights.stop();
    await deleteTopic(info, topic).catch(() => undefined);
    await testDb.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
