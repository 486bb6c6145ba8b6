import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { LitestreamError } from '../ltx/errors.ts';

/** Who holds a database's replication lock, as written beside it for messages. */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** RFC 3339 time the lock was taken. */
  readonly since: string;
}

/** Another process (or another store in this one) replicates the database already. */
export class DatabaseLockedError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_DATABASE_LOCKED';
  /** The database file. */
  readonly database: string;
  /** The lock file. */
  readonly lockPath: string;
  /** Who holds the lock, when its holder file could be read. */
  readonly holder: LockHolder | undefined;
  constructor(database: string, lockPath: string, holder: LockHolder | undefined) {
    const who = holder ? `process ${holder.pid} on host ${holder.hostname} (since ${holder.since})` : 'another process';
    super(
      `database ${database} is already being replicated by ${who}; lock file ${lockPath}. ` +
        'Stop that process first, or give the database a lease (lease: in the config) so that replicate processes take turns',
    );
    this.database = database;
    this.lockPath = lockPath;
    this.holder = holder;
  }
}

/** The lock file's name in the meta directory. */
export const REPLICATION_LOCK_FILE = 'replicate.lock';
/** The holder file's name in the meta directory. */
export const LOCK_HOLDER_FILE = 'replicate.lock.json';

/** better-sqlite3, loaded on first use (as the engine's DB does). */
let sqlite: typeof Database | undefined;
async function loadSqlite(): Promise<typeof Database> {
  return (sqlite ??= (await import('better-sqlite3')).default);
}

/**
 * One replicator per database on this machine: an exclusive lock on `<meta>/replicate.lock`,
 * held from `acquire()` to `release()`. Two replicators of one database would both hold read
 * transactions and checkpoint, and interleave TXIDs in the replica.
 *
 * The lock is a write lock (`BEGIN IMMEDIATE`) of SQLite on that file, so it is the kernel's
 * advisory lock underneath: it goes with the process, however it dies, and a lock left by a
 * dead process is simply free — no pid or host name to second-guess, no stale lock to break
 * (pid files go wrong when pids are reused, as in containers, or the host name changes). It also
 * refuses a second store of the same process, since SQLite tracks its connections' locks. Who
 * holds it is written to `<meta>/replicate.lock.json` for the message a second process shows.
 */
export class ReplicationLock {
  /** The database file, for messages. */
  readonly database: string;
  readonly metaPath: string;
  /** The lock file. */
  readonly path: string;
  private readonly holderPath: string;
  private conn: Database.Database | undefined;

  constructor(database: string, metaPath: string) {
    this.database = database;
    this.metaPath = metaPath;
    this.path = join(metaPath, REPLICATION_LOCK_FILE);
    this.holderPath = join(metaPath, LOCK_HOLDER_FILE);
  }

  get held(): boolean {
    return this.conn !== undefined;
  }

  /**
   * Takes the lock, or throws `DatabaseLockedError` naming its holder. Never waits. A database
   * that does not exist is refused before anything is created for it.
   */
  async acquire(): Promise<void> {
    if (!existsSync(this.database)) throw new LitestreamError('database does not exist', { file: this.database });
    await this.take();
  }

  private async take(): Promise<void> {
    if (this.conn) return;
    const Sqlite = await loadSqlite();
    let conn: Database.Database | undefined;
    try {
      mkdirSync(this.metaPath, { recursive: true });
      conn = new Sqlite(this.path, { timeout: 0 });
      conn.exec('BEGIN IMMEDIATE');
    } catch (err) {
      conn?.close();
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new DatabaseLockedError(this.database, this.path, this.readHolder());
      throw new LitestreamError(`cannot take the replication lock: ${(err as Error).message}`, { file: this.path, cause: err });
    }
    this.conn = conn;
    const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
    const temporary = `${this.holderPath}.${process.pid}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(holder)}\n`);
      renameSync(temporary, this.holderPath);
    } catch {
      // Only for the message a refused replicator prints (a full disk, say): the lock holds without it.
      rmSync(temporary, { force: true });
    }
  }

  /** Lets the lock go (the holder file goes too). */
  release(): void {
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined;
    rmSync(this.holderPath, { force: true });
    conn.close();
  }

  /**
   * Whether another process holds the lock now (without keeping it): its holder, or
   * `{ unknown: true }` when the holder file cannot be read; undefined when it is free.
   */
  async probe(): Promise<LockHolder | { readonly unknown: true } | undefined> {
    if (!existsSync(this.path)) return undefined;
    try {
      await this.take();
    } catch (err) {
      if (err instanceof DatabaseLockedError) return err.holder ?? { unknown: true };
      throw err;
    }
    this.release();
    return undefined;
  }

  private readHolder(): LockHolder | undefined {
    try {
      const value = JSON.parse(readFileSync(this.holderPath, 'utf8')) as Partial<LockHolder>;
      if (typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.since === 'string') {
        return { pid: value.pid, hostname: value.hostname, since: value.since };
      }
    } catch {
      // Written by the holder right after it took the lock: missing only for a moment.
    }
    return undefined;
  }
}
