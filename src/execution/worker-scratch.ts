// The worker's scratch tmpfs (/dev/shm, with /tmp a link to it) is emptied before every call. On
// the hot path nothing is read: an inotify watch (fs.watch) on the tmpfs root marks it dirty at the
// first entry created, renamed or changed there, and closes itself (a flood of writes costs Beacon
// one event, not one per write). A call that ends with it clean costs one turn of the event loop
// instead of an fstat: each syscall on the main thread under load cost ~10 µs (docs/benchmarks.md).
//
// Why one turn is enough: an entry made before the runner's reply queued its inotify event before
// the reply was written, so the inotify descriptor is ready in the same epoll batch as the reply's
// pipe, and libuv runs every callback of that batch before setImmediate's check phase.
import { closeSync, fstatSync, openSync, watch, type FSWatcher } from 'node:fs';

// The size of an empty tmpfs directory (2 × BOGO_DIRENT_SIZE); each entry adds 20.
const EMPTY_TMPFS_DIR_SIZE = 40;
const WIPE_ATTEMPTS = 3;

export class ScratchTmpfs {
  private fd?: number;
  private watcher?: FSWatcher;
  private dirty = true; // unknown until the first check
  private unwatchable = false; // fs.watch failed here: every call falls back to an fstat

  /**
   * root: the tmpfs root as the host sees it (/proc/<runner>/root/dev/shm; the mount point cannot
   * be swapped for a link). remove: deletes everything in it, inside the sandbox.
   */
  constructor(
    private readonly root: string,
    private readonly remove: () => Promise<void>,
  ) {}

  /** Clean for the next call: true once nothing is in it (a watched clean tmpfs costs no syscall). */
  settle(): Promise<boolean> {
    if (this.watcher && !this.dirty) return new Promise((resolve) => setImmediate(() => resolve(this.dirty ? this.wipe() : true)));
    return this.wipe();
  }

  /** Empties it, then watches it again; false when it cannot be emptied (replace the worker). */
  async wipe(): Promise<boolean> {
    for (let i = 0; i < WIPE_ATTEMPTS; i++) {
      this.dirty = false;
      this.arm(); // from here on every new entry marks it dirty
      if (this.empty() && !this.dirty) return true;
      this.disarm(); // removing would mark it dirty anyway
      try {
        await this.remove();
      } catch {
        return false;
      }
    }
    return false;
  }

  close(): void {
    this.disarm();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private empty(): boolean {
    try {
      this.fd ??= openSync(this.root, 'r');
      return fstatSync(this.fd).size <= EMPTY_TMPFS_DIR_SIZE;
    } catch {
      return false;
    }
  }

  private arm(): void {
    if (this.watcher || this.unwatchable) return;
    try {
      const w = watch(this.root, { persistent: false });
      const mark = () => {
        this.dirty = true;
        this.disarm();
      };
      w.on('change', mark);
      w.on('error', mark);
      this.watcher = w;
    } catch {
      this.unwatchable = true;
    }
  }

  private disarm(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
