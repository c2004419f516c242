// Fault tier: a private embedded PostgreSQL that a test may stop and start at will, so the machine's
// PostgreSQL (shared by every other test) is never touched.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPg } from '../../src/platform/embedded-postgres';

export interface FaultPostgres {
  /** postgres://... of the server's `beacon` database (a superuser; test databases are created from it). */
  url: string;
  port: number;
  /** Fast shutdown (SIGINT to the postmaster): every connection is cut. */
  stop(): Promise<void>;
  /** Starts the server again on the same data folder and port. */
  start(): Promise<void>;
  /** Stops the server and removes its files. */
  destroy(): Promise<void>;
}

export async function startFaultPostgres(log: (msg: string) => void = () => undefined): Promise<FaultPostgres> {
  // As root the server runs as the `postgres` user, which must be able to reach the data folder.
  const root = mkdtempSync(path.join(tmpdir(), 'beacon-fault-pg-'));
  chmodSync(root, 0o755);
  const dir = path.join(root, 'data');
  const port = await freePort();
  const logLine = (_level: string, obj: object, msg: string) => log(`${msg} ${JSON.stringify(obj)}`);
  let pg: EmbeddedPg | undefined = await startEmbeddedPostgres(dir, port, logLine);
  const stop = async () => {
    const running = pg;
    pg = undefined;
    await running?.stop();
  };
  return {
    url: pg.superuserUrl,
    port,
    stop,
    async start() {
      if (pg) return;
      pg = await startEmbeddedPostgres(dir, port, logLine);
    },
    async destroy() {
      await stop().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
