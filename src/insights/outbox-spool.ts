import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../platform/logger';
import type { OutboxEntry } from './outbox-store';

// The outbox's own write-ahead fallback: when PostgreSQL cannot take a batch (restart, failover,
// network), the batch is written to a local file and fsynced before the callers are answered, then
// moved into the outbox as soon as the database is back (and at the next start). A payload whose
// call was answered is therefore durable even while the database is down. A crash between the
// outbox insert and the file's removal replays the file once more: a duplicate with the same ce_id,
// which consumers already deduplicate.

export interface SpoolTarget {
  /** Inserts the entries into the outbox; throws when the database is unavailable. */
  insert(entries: OutboxEntry[]): Promise<void>;
}

const SUFFIX = '.jsonl';

// Replays of one folder never overlap inside this process, whichever OutboxSpool object runs them
// (two replays reading the same file would insert its payloads twice). Across processes the folder
// is not shared: one per instance (docs/operations.md).
const replaysByDir = new Map<string, Promise<unknown>>();

export class OutboxSpool {
  private replaying: Promise<number> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly target: SpoolTarget,
    private readonly logger: Logger,
    private readonly retryMs = 1_000,
  ) {}

  /** Durably writes a batch (atomic rename, file and folder fsynced), then schedules its replay. */
  async append(entries: OutboxEntry[]): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${randomUUID()}`;
    const tmp = path.join(this.dir, `${name}.tmp`);
    const handle = await fs.open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, path.join(this.dir, name + SUFFIX));
    await syncDir(this.dir);
    this.logger.warn({ payloads: entries.length }, 'insights outbox unavailable: payloads spooled to local disk until the database is back');
    this.schedule();
  }

  /** Moves every spooled batch into the outbox, oldest first; returns how many payloads moved. */
  replay(): Promise<number> {
    this.replaying ??= this.exclusive(() => this.replayFiles()).finally(() => {
      this.replaying = undefined;
    });
    return this.replaying;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const key = path.resolve(this.dir);
    const previous = replaysByDir.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    replaysByDir.set(key, tail);
    void tail.then(() => {
      if (replaysByDir.get(key) === tail) replaysByDir.delete(key);
    });
    return run;
  }

  /** Replays what earlier runs left behind, and keeps retrying while files remain. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  async pending(): Promise<number> {
    return (await this.files()).length;
  }

  private schedule(delay = this.retryMs): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(async () => {
      this.timer = undefined;
      try {
        await this.replay();
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'insights spool replay failed; will retry');
      }
      if ((await this.files()).length > 0) this.schedule();
    }, delay);
    this.timer.unref();
  }

  private async replayFiles(): Promise<number> {
    let moved = 0;
    for (const file of await this.files()) {
      const full = path.join(this.dir, file);
      const text = await readIfPresent(full);
      if (text === undefined) continue; // replayed meanwhile
      const entries = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as OutboxEntry);
      await this.target.insert(entries); // throws while the database is still down: the file stays
      await fs.unlink(full);
      moved += entries.length;
    }
    if (moved > 0) this.logger.info({ payloads: moved }, 'insights spool replayed into the outbox');
    return moved;
  }

  private async files(): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter((f) => f.endsWith(SUFFIX)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
