// Where the Insights pipeline spends CPU, per payload, without HTTP or workers in the way:
// `callers` concurrent loops of OutboxSink.accept() for `seconds`, first with the relay off (the
// outbox write alone), then with the relay delivering to the real broker (write + relay + broker;
// timed until the outbox is empty again).
// Prints CPU milliseconds per payload for this process, this database's PostgreSQL backends and
// the project's Kafka broker (attributed by pid, bench/cpu.ts).
//
//   node --import tsx bench/pipeline-cpu.ts [callers=4] [seconds=8]
// BENCH_ASYNC_COMMIT=1 (diagnostic only) sets synchronous_commit=off on the benchmark's database:
// the same code without the WAL flush per commit, to separate the flush's effect from the code's.
import { randomUUID } from 'node:crypto';
import { createApp } from '../src/app';
import { BENCH_ADMIN_KEY, benchRecord } from './bench-record';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/platform/logger';
import { bootstrapAdmin } from '../src/users/bootstrap-admin';
import supertest from 'supertest';
import { createTestDb } from '../test/support/db';
import { connectionFor } from '../test/support/insights-helpers';
import { createTopic, deleteTopic, ensureKafka } from '../test/support/kafka';
import { attributionFor, cpuSince, snapshot } from './cpu';

const ADMIN_KEY = BENCH_ADMIN_KEY;
const callers = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 8);

const record = benchRecord;

async function main(): Promise<void> {
  const info = await ensureKafka();
  const topic = `bench-cpu-${randomUUID().slice(0, 8)}`;
  await createTopic(info, topic, 3);
  const testDb = await createTestDb();
  if (process.env.BENCH_ASYNC_COMMIT === '1') {
    await testDb.db.raw('DO $$ BEGIN EXECUTE format($f$ALTER DATABASE %I SET synchronous_commit = off$f$, current_database()); END $$');
    await testDb.db.destroy(); // pooled sessions pick the setting up when they reconnect
    testDb.db.initialize();
  }
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', BEACON_SECRET_KEY: '1'.repeat(64), ...pick(process.env, ['INSIGHTS_RELAY_LINGER_MS', 'INSIGHTS_RELAY_IDLE_MS']) });
  const beacon = createApp({ config, db: testDb.db, logger: createLogger(config.logLevel), baseUrl: () => 'http://127.0.0.1' });
  await bootstrapAdmin(beacon.users, ADMIN_KEY);
  const request = supertest(beacon.app);
  const attribution = attributionFor(testDb.db);
  try {
    const r = await request.post('/v1/admin/insights-connection').set({ Authorization: `Simple ${ADMIN_KEY}` }).send(connectionFor(info, 'plaintext', topic, ''));
    if (r.status !== 200) throw new Error(`connection: ${r.status} ${r.text}`);
    for (let i = 0; i < 500; i++) await beacon.insights.sink.accept(record(i)); // warm-up
    await testDb.db.raw('TRUNCATE insights_outbox_batch');
    console.log(`${callers} concurrent accept() loops, ${seconds} s each, load average ${(await import('node:os')).loadavg()[0].toFixed(2)}`);
    console.log('case                      payloads/s   beacon ms  postgres ms   kafka ms   (CPU per payload)');
    for (const relay of [false, true]) {
      if (relay) beacon.insights.start();
      const cpu0 = await snapshot(attribution);
      let n = 0;
      const end = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: callers }, async () => {
          while (Date.now() < end) await beacon.insights.sink.accept(record(n++));
        }),
      );
      if (relay) {
        const pending = async () => (await testDb.db.raw('SELECT EXISTS (SELECT 1 FROM insights_outbox_batch) AS e')).rows[0].e as boolean;
        while (await pending()) await new Promise((res) => setTimeout(res, 20));
      }
      const cpu = await cpuSince(cpu0, attribution);
      if (!relay) await testDb.db.raw('TRUNCATE insights_outbox_batch');
      const per = (ms: number) => (ms / n).toFixed(4).padStart(10);
      console.log(`${(relay ? 'write + relay + broker' : 'write only').padEnd(24)} ${(n / seconds).toFixed(0).padStart(10)} ${per(cpu.beacon)} ${per(cpu.postgres)} ${per(cpu.kafka)}`);
    }
  } finally {
    await beacon.insights.stop();
    await deleteTopic(info, topic);
    await testDb.drop();
  }
}

function pick(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  return Object.fromEntries(names.filter((k) => env[k] !== undefined).map((k) => [k, env[k] as string]));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
