import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from './app';
import { loadConfig } from './config';
import { createDb, migrateLatest } from './platform/db';
import { startEmbeddedPostgres, type EmbeddedPg } from './platform/embedded-postgres';
import { createLogger } from './platform/logger';
import { bootstrapAdmin } from './users/bootstrap-admin';
import { loadOrCreateDevSecretKey } from './platform/secret-key';
import path from 'node:path';

// The only module with side effects: reads the environment, starts embedded PostgreSQL when no
// DATABASE_URL is given, migrates, listens, and shuts down once, in order, on SIGTERM/SIGINT.
async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  const logger = createLogger(loaded.logLevel);
  const config = loaded.secretKey
    ? loaded
    : Object.freeze({ ...loaded, secretKey: loadOrCreateDevSecretKey(path.dirname(loaded.embeddedPg.dir)) });

  let embedded: EmbeddedPg | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    logger.info({ dir: config.embeddedPg.dir, port: config.embeddedPg.port }, 'no DATABASE_URL: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(config.embeddedPg.dir, config.embeddedPg.port, (level, obj, msg) => logger[level](obj, msg));
    databaseUrl = embedded.url;
    logger.info({ port: embedded.port }, 'embedded PostgreSQL ready');
  }
  const db = createDb(databaseUrl, 20);
  try {
    await migrateLatest(db);
  } catch (err) {
    await db.destroy();
    if (embedded) await embedded.stop();
    throw err;
  }

  let port = config.port;
  const beacon = createApp({
    config,
    db,
    logger,
    baseUrl: () => config.publicUrl ?? `http://127.0.0.1:${port}`,
    localUrl: () => `http://127.0.0.1:${port}`,
  });
  await beacon.recover();
  const generated = await bootstrapAdmin(beacon.users, config.bootstrapAdminKey);
  if (generated) {
    // Printed once, on the first start; only its hash is stored.
    process.stdout.write(`\nBeacon generated the first admin key (shown once, store it now):\n  ${generated}\n\n`);
  }

  const server: Server = await new Promise((resolve) => {
    const s = beacon.app.listen(config.port, config.host, () => resolve(s));
  });
  port = (server.address() as AddressInfo).port;
  server.keepAliveTimeout = 65_000;
  // /metrics and the detailed /readyz without a key, on their own (loopback by default) listener.
  let metricsServer: Server | undefined;
  const metricsPort = config.metrics.port;
  if (metricsPort !== undefined) {
    metricsServer = await new Promise<Server>((resolve) => {
      const s = beacon.metricsApp.listen(metricsPort, config.metrics.host, () => resolve(s));
    });
    logger.info({ port: (metricsServer.address() as AddressInfo).port, host: config.metrics.host }, 'metrics listening');
  }
  beacon.insights.start();
  logger.info({ port, embeddedPostgres: Boolean(embedded) }, 'beacon listening');

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      beacon.beginShutdown();
      const force = setTimeout(() => {
        logger.error('shutdown timed out; closing connections');
        server.closeAllConnections();
      }, config.shutdownTimeoutMs);
      force.unref();
      // Stop accepting, let in-flight requests finish. Their answers carry Connection: close, and
      // each connection is closed as soon as it goes idle.
      const closeIdle = setInterval(() => server.closeIdleConnections(), 100);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      clearInterval(closeIdle);
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      // Execution first: background (output=void) runs still hand their Insights records to the sink.
      await beacon.execution.close();
      await beacon.insights.stop();
      await db.destroy();
      if (embedded) await embedded.stop();
      clearTimeout(force);
      logger.info('stopped');
    })();
    stopping.then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err) => {
  const why = err instanceof Error ? err.message || err.name : err === undefined ? 'unknown error (no reason given)' : String(err);
  process.stderr.write(`beacon failed to start: ${why}\n`);
  process.exit(1);
});
