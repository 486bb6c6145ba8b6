import { watch, type FSWatcher } from 'node:fs';

/**
 * Calls `onChange` shortly after the `-wal` file is written, for the event-driven sync mode.
 * A transaction is several writes (its frames, then the commit frame), so calls are
 * debounced by `settleMs`. The watch follows the file when it is replaced or removed and
 * re-armed by `rearm()` (the caller's periodic tick), so a missing WAL is not an error: the
 * regular interval goes on as a safety net either way.
 */
export class WalWatcher {
  private readonly path: string;
  private readonly settleMs: number;
  private readonly onChange: () => void;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(path: string, onChange: () => void, settleMs = 2) {
    this.path = path;
    this.onChange = onChange;
    this.settleMs = settleMs;
  }

  /** Starts watching if not watching already (the WAL may have appeared, or been replaced). */
  rearm(): void {
    if (this.closed || this.watcher) return;
    try {
      const watcher = watch(this.path, { persistent: false }, (event) => {
        // 'rename': the file was removed or replaced; watch whatever holds the name next time.
        if (event === 'rename') this.unwatch();
        this.changed();
      });
      watcher.on('error', () => this.unwatch());
      this.watcher = watcher;
    } catch {
      // No WAL yet: the caller's tick calls rearm() again.
    }
  }

  close(): void {
    this.closed = true;
    this.unwatch();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private changed(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.onChange();
    }, this.settleMs);
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
