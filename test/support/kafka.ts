// Test helpers for the real Kafka broker of scripts/kafka (integration tests only).
// ensureKafka() reuses a broker described by KAFKA_BOOTSTRAP_INFO (set by the test runner) or
// runs scripts/kafka/start.sh, which starts one if needed and leaves it running afterwards.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';

export interface KafkaInfo {
  plaintext: string; // host:port, no auth (principal ANONYMOUS, a super user)
  sasl_plaintext: string; // host:port, SCRAM-SHA-256 and SCRAM-SHA-512
  sasl_ssl: string; // host:port, SCRAM over TLS signed by ca_certificate
  users: { beacon: string; admin: string; nobody?: string }; // user name -> password
  mechanisms: string[];
  ca_certificate: string; // absolute path of the PEM CA
  topic: string; // pre-created, 3 partitions
  pid: number;
  log: string; // broker log file
}

export interface ConsumedMessage {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

export interface ConsumeOptions {
  expected?: number; // stop as soon as this many messages arrived
  timeoutMs: number; // hard bound on the whole call, connect and group join included
  fromBeginning?: boolean; // default true
}

export type BrokerSignal = 'SIGKILL' | 'SIGTERM' | 'SIGSTOP' | 'SIGCONT';

// __dirname exists while the tests run as CommonJS (package.json has no "type": "module").
const repoRoot =
  process.env.BEACON_REPO_ROOT ??
  (typeof __dirname === 'string' ? path.resolve(__dirname, '..', '..') : process.cwd());
const scriptsDir = path.join(repoRoot, 'scripts', 'kafka');
const pidFile = path.join(
  process.env.KAFKA_CACHE_DIR ?? path.join(repoRoot, '.cache', 'kafka'),
  'run',
  'kafka.pid',
);
// A cold start downloads the jars from Maven Central first.
const SCRIPT_TIMEOUT_MS = 15 * 60_000;

let cached: Promise<KafkaInfo> | undefined;

export function ensureKafka(): Promise<KafkaInfo> {
  const fromEnv = process.env.KAFKA_BOOTSTRAP_INFO;
  if (fromEnv) return Promise.resolve(parseKafkaInfo(fromEnv));
  cached ??= runStartScript().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** Starts the broker again (after stopBroker) and returns its fresh details. */
export async function startBroker(): Promise<KafkaInfo> {
  cached = runStartScript();
  return cached;
}

/**
 * SIGTERM: controlled shutdown via stop.sh (waits, SIGKILL after 30 s). SIGKILL: crash via
 * `stop.sh --kill` (waits until the process is gone). SIGSTOP/SIGCONT: freeze/thaw the JVM in
 * place, like a long GC pause; the broker keeps its pid and sockets.
 */
export async function stopBroker(opts: { signal: BrokerSignal } = { signal: 'SIGTERM' }): Promise<void> {
  switch (opts.signal) {
    case 'SIGTERM':
      await runScript('stop.sh', []);
      return;
    case 'SIGKILL':
      await runScript('stop.sh', ['--kill']);
      return;
    case 'SIGSTOP':
    case 'SIGCONT':
      process.kill(await brokerPid(), opts.signal);
      return;
  }
}

export function plaintextClient(info: KafkaInfo, clientId = 'beacon-test'): Kafka {
  return new Kafka({ clientId, brokers: [info.plaintext], logLevel: logLevel.NOTHING });
}

export async function createTopic(info: KafkaInfo, name: string, partitions = 1, config: Record<string, string> = {}): Promise<void> {
  const admin = plaintextClient(info, 'beacon-test-admin').admin();
  await admin.connect();
  try {
    // Resolves false when the topic already exists; both outcomes leave the topic in place.
    await admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(config).map(([n, value]) => ({ name: n, value })) }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopic(info: KafkaInfo, name: string): Promise<void> {
  const admin = plaintextClient(info, 'beacon-test-admin').admin();
  await admin.connect();
  try {
    // kafkajs retries UNKNOWN_TOPIC_OR_PARTITION for seconds, so look first.
    if (!(await admin.listTopics()).includes(name)) return;
    await admin.deleteTopics({ topics: [name], timeout: 10_000 });
  } catch (err) {
    if (!isUnknownTopic(err)) throw err;
  } finally {
    await admin.disconnect();
  }
}

/** Reads `topic` on the PLAINTEXT listener with a fresh consumer group. */
export function consumeAll(info: KafkaInfo, topic: string, opts: ConsumeOptions): Promise<ConsumedMessage[]> {
  return consumeWith(plaintextClient(info, 'beacon-test-consumer'), topic, opts);
}

/** Same as consumeAll with a caller-built client (e.g. SASL or TLS listeners). */
export async function consumeWith(kafka: Kafka, topic: string, opts: ConsumeOptions): Promise<ConsumedMessage[]> {
  const seen: ConsumedMessage[] = [];
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let stopped = false;
  const timer = setTimeout(finish, opts.timeoutMs);
  if (opts.expected === 0) finish();

  // maxWaitTimeInMs: a short fetch long-poll keeps disconnect() quick.
  const consumer = kafka.consumer({ groupId: `beacon-test-${randomUUID()}`, maxWaitTimeInMs: 250 });
  const running = connectAndRun();
  running.catch(() => undefined); // a failure after the timeout already fired must not go unhandled
  try {
    await Promise.race([running, finished]);
    await finished;
  } finally {
    stopped = true;
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return seen;

  async function connectAndRun(): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (stopped) return;
        seen.push({
          key: message.key ? message.key.toString('utf8') : null,
          value: message.value ? message.value.toString('utf8') : '',
          headers: headersToStrings(message.headers),
          partition,
          offset: message.offset,
        });
        if (opts.expected !== undefined && seen.length >= opts.expected) finish();
      },
    });
  }
}

export function parseKafkaInfo(text: string): KafkaInfo {
  const info = JSON.parse(text) as KafkaInfo;
  for (const field of ['plaintext', 'sasl_plaintext', 'sasl_ssl', 'ca_certificate', 'topic'] as const) {
    if (typeof info[field] !== 'string') throw new Error(`Kafka info lacks "${field}": ${text}`);
  }
  if (!info.users?.beacon || !info.users.admin) throw new Error(`Kafka info lacks users: ${text}`);
  return info;
}

async function runStartScript(): Promise<KafkaInfo> {
  const { stdout } = await runScript('start.sh', []);
  const last = stdout.trim().split('\n').pop() ?? '';
  return parseKafkaInfo(last);
}

function runScript(name: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [path.join(scriptsDir, name), ...args],
      { cwd: repoRoot, timeout: SCRIPT_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`scripts/kafka/${name} failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

async function brokerPid(): Promise<number> {
  const text = await readFile(pidFile, 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  if (Number.isInteger(pid) && pid > 0) return pid;
  const info = await ensureKafka();
  return info.pid;
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    // Repeated header names arrive as arrays; keep the last value, like Java's lastHeader().
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) out[name] = value.toString();
  }
  return out;
}

function isUnknownTopic(err: unknown): boolean {
  const e = err as { type?: string; errors?: Array<{ type?: string }> } | undefined;
  return e?.type === 'UNKNOWN_TOPIC_OR_PARTITION' || (e?.errors ?? []).some((x) => x.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}
