import { setTimeout as sleep } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';

/** How long one attempt at the lock may block the event loop in SQLite's busy handler. */
const ATTEMPT_MS = 50;

/**
 * SQLite's own exclusive lock on a rollback-journal database, held through a connection that
 * never writes: while it is held no other connection can read the file (readers wait in their
 * busy handler, or get SQLITE_BUSY), so bytes written beside SQLite are seen all at once.
 * The lock is taken with `BEGIN EXCLUSIVE` in short attempts (SQLite keeps the PENDING lock
 * while it waits, so new readers queue behind it and running ones drain), between which the
 * event loop runs, and released by `COMMIT` of the empty transaction.
 *
 * POSIX locks belong to the process: closing any descriptor of the file drops them. While the
 * lock is held, no descriptor of the database may be closed.
 */
export class WriteLock {
  private readonly db: BetterSqlite3.Database;
  private held = false;

  private constructor(db: BetterSqlite3.Database) {
    this.db = db;
  }

  /** Opens a connection to `path` (a rollback-journal database: its header must say so). */
  static async open(path: string): Promise<WriteLock> {
    const { default: Database } = await import('better-sqlite3');
    return new WriteLock(new Database(path, { fileMustExist: true, timeout: ATTEMPT_MS }));
  }

  /**
   * Runs `write` holding the exclusive lock. `onWait` is called once if readers keep the lock
   * from being taken for more than a second. An abort stops the waiting, never `write`.
   */
  async hold<T>(write: () => Promise<T>, options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<T> {
    const started = Date.now();
    let waited = false;
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        this.db.exec('BEGIN EXCLUSIVE');
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        if (!waited && Date.now() - started > 1000) {
          waited = true;
          options.onWait?.();
        }
        await sleep(5);
      }
    }
    this.held = true;
    try {
      return await write();
    } finally {
      this.db.exec('COMMIT');
      this.held = false;
    }
  }

  /** True while `hold` runs its write. */
  get isHeld(): boolean {
    return this.held;
  }

  close(): void {
    this.db.close();
  }
}
