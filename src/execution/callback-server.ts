// The workers' callback channel: an HTTP server on a Unix socket that serves the worker-facing
// routes (POST /worker/{token}/v1/insights today; any route added to the list rides along). Each
// sandbox reaches it through a forwarder listening on 127.0.0.1 in the sandbox's own network
// namespace, never through Beacon's TCP port. It is closed last, after every execution drained.
import express from 'express';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Authenticator } from '../platform/auth';
import { errorHandler } from '../platform/error-handler';
import { ApiError, ErrorCode } from '../platform/errors';
import { newRequestId } from '../platform/ids';
import type { Logger } from '../platform/logger';
import { mountRoutes, type RouteDef } from '../platform/routes';

const RUN_DIR = /^beacon-run-(\d+)-[0-9a-f]{8}$/;

/** A socket path of this process's own (tmpdir/beacon-run-<pid>-<random>/callback.sock). */
export function callbackSocketPath(): string {
  return join(tmpdir(), `beacon-run-${process.pid}-${randomBytes(4).toString('hex')}`, 'callback.sock');
}

export class CallbackServer {
  private server?: Server;
  private listening?: Promise<void>;

  constructor(
    readonly socketPath: string,
    private routes: RouteDef[],
    private readonly deps: { authenticator: Authenticator; logger: Logger },
  ) {}

  setRoutes(routes: RouteDef[]): void {
    this.routes = routes;
  }

  /** Starts listening (once). The socket's folder is the service's; workers' forwarders connect. */
  listen(): Promise<void> {
    this.listening ??= (async () => {
      await removeStaleRunDirs(dirname(dirname(this.socketPath)));
      await mkdir(dirname(this.socketPath), { recursive: true, mode: 0o711 });
      await rm(this.socketPath, { force: true });
      const app = express();
      app.disable('x-powered-by');
      app.use((req, res, next) => {
        req.requestId = newRequestId();
        res.setHeader('X-Request-Id', req.requestId);
        next();
      });
      app.use(mountRoutes(this.routes, { authenticator: this.deps.authenticator, jsonLimit: '2mb' }));
      app.use((req) => {
        throw new ApiError(404, ErrorCode.InvalidRequest, `No route for ${req.method} ${req.path}`);
      });
      app.use(errorHandler(this.deps.logger));
      const server = createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.socketPath, () => resolve());
      });
      // Forwarders run as the workers' uids; the token in the path is the credential.
      await chmod(this.socketPath, 0o666);
      this.server = server;
    })();
    this.listening.catch(() => (this.listening = undefined));
    return this.listening;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.listening = undefined;
    if (s) {
      s.closeIdleConnections();
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        setTimeout(() => s.closeAllConnections(), 1000).unref();
      });
    }
    await rm(dirname(this.socketPath), { recursive: true, force: true });
  }
}

/** Folders of Beacon processes that are gone (a crash leaves them behind). */
async function removeStaleRunDirs(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  for (const name of names) {
    const m = RUN_DIR.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') await rm(join(parent, name), { recursive: true, force: true });
    }
  }
}
