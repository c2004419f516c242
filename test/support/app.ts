import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import supertest from 'supertest';
import { createApp, type Beacon } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/platform/logger';
import { bootstrapAdmin } from '../../src/users/bootstrap-admin';
import { createTestDb, type TestDb } from './db';

export const ADMIN_KEY = 'simTestAdminKey0000000000000000';

export interface TestApp {
  beacon: Beacon;
  testDb: TestDb;
  config: Config;
  request: ReturnType<typeof supertest>;
  /** Base URL once listen() was called (needed by worker callbacks and real clients). */
  url: string;
  /** Creates a user and a standard key for it; returns the key. */
  createUser(username: string, permissions?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * A Beacon on its own fresh database (or a shared one, as a second replica), listening on an ephemeral loopback port (real workers call back
 * into it). Extra environment variables override the test defaults.
 */
export async function startTestApp(env: Record<string, string> = {}, opts: { logLines?: string[]; sharedDb?: TestDb } = {}): Promise<TestApp> {
  // A second replica passes the first one's database (sharedDb): the first app drops it, this one does not.
  const testDb = opts.sharedDb ?? (await createTestDb());
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    BEACON_SECRET_KEY: '0'.repeat(64),
    INSIGHTS_RELAY_IDLE_MS: '50',
    // Each app spools to its own folder: another app's spool belongs to another database.
    INSIGHTS_SPOOL_DIR: path.join(os.tmpdir(), `beacon-spool-${randomUUID()}`),
    GIT_REPOS_DIR: path.join(os.tmpdir(), `beacon-git-${randomUUID()}`),
    ...env,
  });
  let port = 0;
  const destination = opts.logLines ? { write: (line: string) => void opts.logLines!.push(line) } : undefined;
  const beacon = createApp({ config, db: testDb.db, logger: createLogger(config.logLevel, destination), baseUrl: () => `http://127.0.0.1:${port}` });
  await bootstrapAdmin(beacon.users, ADMIN_KEY);
  const server: Server = await new Promise((resolve) => {
    const s = beacon.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
  const request = supertest(beacon.app);
  return {
    beacon,
    testDb,
    config,
    request,
    url: `http://127.0.0.1:${port}`,
    async createUser(username, permissions = {}) {
      await request.post('/v1/users').set('Authorization', `Simple ${ADMIN_KEY}`).send({ username }).expect(201);
      const res = await request
        .post(`/v1/admin/users/${username}/keys`)
        .set('Authorization', `Simple ${ADMIN_KEY}`)
        .send({ permissions })
        .expect(201);
      return res.body.api_key as string;
    },
    async close() {
      beacon.beginShutdown();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await beacon.execution.close();
      await beacon.insights.stop();
      if (!opts.sharedDb) await testDb.drop();
    },
  };
}
