// The worker's scratch tmpfs (/dev/shm, with /tmp a link to it) is emptied before every call.
// Looking is one fstat of its root, opened once through /proc/<runner>/root (the mount point cannot
// be swapped for a link): an empty tmpfs directory has size 40, and every entry adds to it.
//
// An inotify watch instead of the fstat measured no better within this machine's noise, and it
// shares one inotify queue per process (16,384 events by default): one worker's write flood could
// overflow it and lose the event of another worker's file, so it was not kept (decision 42).
import { closeSync, fstatSync, openSync } from 'node:fs';

// The size of an empty tmpfs directory (2 × BOGO_DIRENT_SIZE); each entry adds 20.
const EMPTY_TMPFS_DIR_SIZE = 40;
const WIPE_ATTEMPTS = 3;

export class ScratchTmpfs {
  private fd?: number;

  /**
   * root: the tmpfs root as the host sees it (/proc/<runner>/root/dev/shm). remove: deletes
   * everything in it, inside the sandbox.
   */
  constructor(
    private readonly root: string,
    private readonly remove: () => Promise<void>,
  ) {}

  /** Empty for the next call: true at once when nothing was left; false when it cannot be emptied. */
  settle(): boolean | Promise<boolean> {
    return this.empty() || this.wipe();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private async wipe(): Promise<boolean> {
    for (let i = 0; i < WIPE_ATTEMPTS; i++) {
      try {
        await this.remove();
      } catch {
        return false;
      }
      if (this.empty()) return true;
    }
    return false;
  }

  private empty(): boolean {
    try {
      this.fd ??= openSync(this.root, 'r');
      return fstatSync(this.fd).size <= EMPTY_TMPFS_DIR_SIZE;
    } catch {
      return false;
    }
  }
}
