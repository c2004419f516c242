import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../platform/db';
import { createLogger } from '../platform/logger';
import { ConnectionService } from './connection-service';
import { ConnectionStore } from './connection-store';
import { KafkaClientFactory } from './kafka-client-factory';
import { connectRelayProducer } from './kafka-relay-producer';
import { guardKafkaRejections } from './kafka-rejection-guard';
import { OutboxStore } from './outbox-store';
import { Relay, type RelayState } from './relay';
import type { FromRelayWorker, RelayWorkerData, ToRelayWorker } from './relay-thread';
import { SecretBox } from './secret-box';

// The relay's own thread (see relay-thread.ts): its own event loop, database pool, Kafka producer
// and logger, so claiming rows and encoding Kafka batches never take the request path's thread.
// Everything it tells the service goes through postMessage: counts, state, log lines.

const STATE_POLL_MS = 100;

const port = parentPort;
if (!port) throw new Error('relay-worker.ts runs only as a worker thread (src/insights/relay-thread.ts)');
const data = workerData as RelayWorkerData;
const post = (m: FromRelayWorker) => port.postMessage(m);

const logger = createLogger(data.logLevel, { write: (line: string) => post({ type: 'log', line }) }).child({ component: 'insights' });
const db = createDb(data.connectionString, 2);
const connections = new ConnectionService({
  store: new ConnectionStore(db),
  secrets: new SecretBox(Buffer.from(data.secretKey), 'insights_connection.broker_password'),
  probe: () => Promise.reject(new Error('the relay thread does not probe connections')),
  onChange: () => undefined,
  logger,
});
const kafka = new KafkaClientFactory(logger);
// A count is followed by the state it leads to (connected, last error), once the relay has updated it.
const count = (stage: 'delivered' | 'failed' | 'dropped', n: number) => {
  post({ type: 'count', stage, n });
  setImmediate(reportState);
};
const relay = new Relay({
  outbox: new OutboxStore(db),
  connection: () => connections.active(),
  createProducer: (conn) => connectRelayProducer(kafka, conn),
  onDelivered: (n) => count('delivered', n),
  onFailed: (n) => count('failed', n),
  onDropped: (n) => count('dropped', n),
  logger,
  batchSize: data.batchSize,
  idleMs: data.idleMs,
  lingerMs: data.lingerMs,
});

let last = '';
function reportState(): void {
  const state: RelayState = relay.state();
  const text = JSON.stringify(state);
  if (text !== last) {
    last = text;
    post({ type: 'state', state });
  }
}

const unguard = guardKafkaRejections(logger);
relay.start();
reportState();
const poll = setInterval(reportState, STATE_POLL_MS);

port.on('message', (m: ToRelayWorker) => {
  if (m.type === 'rows') relay.notifyNewRows();
  else if (m.type === 'connectionChanged') relay.notifyConnectionChanged();
  else if (m.type === 'stop') void stop();
});

async function stop(): Promise<void> {
  clearInterval(poll);
  await relay.stop();
  reportState();
  unguard();
  await db.destroy().catch(() => undefined);
  post({ type: 'stopped' });
}
