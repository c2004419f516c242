import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { NEW_ROWS_CHANNEL } from './outbox-store';

// Wake-up across replicas: every outbox insert notifies NEW_ROWS_CHANNEL (delivered at commit), and
// each relay listens on a dedicated connection (outside the pool), so rows stored by another
// Beacon are picked up after the linger, not after the idle poll. The poll stays as the fallback:
// a lost connection only delays delivery until it is re-established (retried every few seconds).

interface RawConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', cb: (msg: { channel: string }) => void): void;
  on(event: 'error' | 'end', cb: (err?: Error) => void): void;
  removeAllListeners(): void;
}

const RETRY_MS = 2_000;

export class OutboxNotifications {
  private conn: RawConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly onNewRows: () => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.close();
  }

  private async connect(): Promise<void> {
    let conn: RawConnection | undefined;
    try {
      conn = (await this.db.client.acquireRawConnection()) as RawConnection;
      conn.on('notification', (msg) => {
        if (msg.channel === NEW_ROWS_CHANNEL) this.onNewRows();
      });
      conn.on('error', () => this.lost(conn));
      conn.on('end', () => this.lost(conn));
      await conn.query(`LISTEN ${NEW_ROWS_CHANNEL}`);
      if (this.stopped) {
        this.conn = conn;
        await this.close();
        return;
      }
      this.conn = conn;
      // Rows may have been stored while nobody listened.
      this.onNewRows();
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'insights outbox LISTEN connection failed; retrying');
      if (conn) await this.destroy(conn);
      this.retry();
    }
  }

  private lost(conn: RawConnection | undefined): void {
    if (!conn || this.conn !== conn) return;
    this.conn = undefined;
    void this.destroy(conn);
    this.retry();
  }

  private retry(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, RETRY_MS);
    this.timer.unref();
  }

  private async close(): Promise<void> {
    const conn = this.conn;
    this.conn = undefined;
    if (conn) await this.destroy(conn);
  }

  private async destroy(conn: RawConnection): Promise<void> {
    conn.removeAllListeners();
    (conn as unknown as { on(e: string, cb: () => void): void }).on('error', () => undefined);
    await this.db.client.destroyRawConnection(conn).catch(() => undefined);
  }
}
