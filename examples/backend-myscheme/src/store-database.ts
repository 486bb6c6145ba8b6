import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LitestreamError } from '@litestream-ts/core';

/**
 * The SQLite file that holds replicas. Every replica's rows carry its path (`replica`), so one
 * file holds many replicas apart.
 *
 * - `ltx_files`: one row per published LTX file, naming the upload that holds its bytes;
 * - `chunks`: the bytes of every upload, in pieces keyed by their byte offset;
 * - `uploads`: uploads still being written (or abandoned by a crash): a row leaves this table
 *   in the same transaction that publishes the file;
 * - `objects`: small objects (leases, markers) with their etags.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS uploads (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  replica TEXT NOT NULL,
  started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  upload INTEGER NOT NULL,
  offset INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (upload, offset)
);
CREATE TABLE IF NOT EXISTS ltx_files (
  replica TEXT NOT NULL,
  level INTEGER NOT NULL,
  min_txid INTEGER NOT NULL,
  max_txid INTEGER NOT NULL,
  upload INTEGER NOT NULL,
  size INTEGER NOT NULL,
  modified_at INTEGER NOT NULL,
  timestamp INTEGER,
  PRIMARY KEY (replica, level, min_txid, max_txid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
  replica TEXT NOT NULL,
  name TEXT NOT NULL,
  data BLOB NOT NULL,
  etag TEXT NOT NULL,
  PRIMARY KEY (replica, name)
) WITHOUT ROWID;
`;

/** Uploads older than this were abandoned by a crashed writer: their chunks are removed on open. */
const ABANDONED_UPLOAD_AGE_MS = 24 * 60 * 60 * 1000;

/** The store could not be opened (missing permission, not a SQLite file…); names the file. */
export class StoreOpenError extends LitestreamError {}

/**
 * Opens (creating it and its directory when missing) the store file. Every commit is fsynced
 * (`synchronous = FULL` in WAL mode) before it returns, so a write that resolved survives a
 * crash; other processes using the same file wait for its lock instead of failing.
 */
export function openStoreDatabase(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma('busy_timeout = 15000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    const cutoff = Date.now() - ABANDONED_UPLOAD_AGE_MS;
    db.transaction(() => {
      db!.prepare('DELETE FROM chunks WHERE upload IN (SELECT id FROM uploads WHERE started_at < ?)').run(cutoff);
      db!.prepare('DELETE FROM uploads WHERE started_at < ?').run(cutoff);
    }).immediate();
    return db;
  } catch (cause) {
    db?.close();
    throw new StoreOpenError(`cannot open the myscheme store: ${(cause as Error).message}`, { file, cause });
  }
}
