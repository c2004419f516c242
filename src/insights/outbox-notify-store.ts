import type { Db } from '../platform/db';
import type { Logger } from '../platform/logger';
import { NEW_ROWS_CHANNEL } from './outbox-store';

// Wake-up across replicas: after this Beacon stored rows it announces them on NEW_ROWS_CHANNEL
// (announce(): one NOTIFY in a transaction of its own, at most every ANNOUNCE_MS, never awaited by
// the callers), and each relay listens on a dedicated connection (outside the pool), so rows stored
// by another Beacon are picked up after the linger, not after the idle poll. Not in the insert's
// own transaction: a notifying commit holds a cluster-wide lock through its WAL flush, which would
// serialise the group commits. The poll stays as the fallback: a lost connection only delays
// delivery until it is re-established (retried every few seconds).

interface RawConnection {
  query(sql: string): Promise<unknown>;
  on(event: 'notification', cb: (msg: { channel: string }) => void): void;
  on(event: 'error' | 'end', cb: (err?: Error) => void): void;
  removeAllListeners(): void;
}

const RETRY_MS = 2_000;
export const ANNOUNCE_MS = 50;

export class OutboxNotifications {
  private conn: RawConnection | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private announcing = false;
  private lastAnnounced = 0;
  private announceTimer: NodeJS.Timeout | undefined;

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

  /** New rows were committed here: tell every listening relay, coalesced to one NOTIFY per ANNOUNCE_MS. */
  announce(): void {
    if (this.announcing || this.announceTimer) return;
    const wait = this.lastAnnounced + ANNOUNCE_MS - Date.now();
    if (wait > 0) {
      this.announceTimer = setTimeout(() => {
        this.announceTimer = undefined;
        this.announce();
      }, wait);
      this.announceTimer.unref();
      return;
    }
    this.announcing = true;
    this.lastAnnounced = Date.now();
    this.db
      .raw(`SELECT pg_notify('${NEW_ROWS_CHANNEL}', '')`)
      .catch((err: Error) => this.logger.debug({ err: err.message }, 'insights outbox NOTIFY failed; other relays will poll'))
      .finally(() => {
        this.announcing = false;
      });
  }

  async stop(): Promise<void> {
    if (this.announceTimer) clearTimeout(this.announceTimer);
    this.announceTimer = undefined;
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
