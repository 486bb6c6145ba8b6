import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { databaseChecksum } from '../../sqlite/database-checksum.ts';

/** Page size of the history databases: small, so a few rows span many pages. */
export const HISTORY_PAGE_SIZE = 1024;

/** A sequence of real SQLite database states, one per TXID (tests only). */
export interface DatabaseHistory {
  readonly pageSize: number;
  /** The last TXID; states exist for 1..lastTXID. */
  readonly lastTXID: number;
  /** Path of a copy of the database as it stood after `txid`. */
  statePath(txid: number): string;
  /** The database bytes after `txid`. */
  state(txid: number): Buffer;
  /** The LTX database checksum after `txid`. */
  checksum(txid: number): bigint;
}

/**
 * Runs `transactions` real write transactions on a rollback-journal database (so the main
 * file holds each committed state) and keeps a copy of the file after each. The mix of
 * inserts, updates, an index and deletes under `auto_vacuum=FULL` makes states grow and
 * shrink, so page sets and commits vary from TXID to TXID.
 */
export async function buildDatabaseHistory(dir: string, transactions: number): Promise<DatabaseHistory> {
  const path = join(dir, 'history.db');
  const db = new Database(path);
  const states: Buffer[] = [];
  const checksums: bigint[] = [];
  try {
    db.pragma(`page_size = ${HISTORY_PAGE_SIZE}`);
    db.pragma('auto_vacuum = FULL');
    const insert = (txid: number, count: number) => {
      const stmt = db.prepare('INSERT INTO t (v) VALUES (?)');
      for (let i = 0; i < count; i++) stmt.run(rowText(txid, i, 120 + ((txid * 37 + i * 11) % 200)));
    };
    for (let txid = 1; txid <= transactions; txid++) {
      db.transaction(() => {
        if (txid === 1) {
          db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
          insert(txid, 30);
        } else if (txid === 7) {
          db.exec('CREATE INDEX t_v ON t (v)');
        } else if (txid % 5 === 0) {
          db.prepare('DELETE FROM t WHERE id % 3 = ?').run(txid % 3);
        } else if (txid % 3 === 0) {
          db.prepare('UPDATE t SET v = ? || v WHERE id % 4 = ?').run(`u${txid}-`, txid % 4);
        } else {
          insert(txid, 8 + txid * 2);
        }
      })();
      const statePath = join(dir, `state-${txid}.db`);
      await copyFile(path, statePath);
      states.push(await readFile(statePath));
      checksums.push((await databaseChecksum(statePath)).checksum);
    }
  } finally {
    db.close();
  }
  const at = <T>(list: readonly T[], txid: number): T => {
    const value = list[txid - 1];
    if (value === undefined) throw new Error(`no database state for TXID ${txid}`);
    return value;
  };
  return {
    pageSize: HISTORY_PAGE_SIZE,
    lastTXID: transactions,
    statePath: (txid) => {
      at(states, txid);
      return join(dir, `state-${txid}.db`);
    },
    state: (txid) => at(states, txid),
    checksum: (txid) => at(checksums, txid),
  };
}

/** Page `pgno` (1-based) of a database image. */
export function pageOf(image: Buffer, pgno: number, pageSize: number): Buffer {
  return image.subarray((pgno - 1) * pageSize, pgno * pageSize);
}

/** Pages of `txid`'s state that differ from the previous state (or are new), ascending. */
export function changedPages(history: DatabaseHistory, txid: number): number[] {
  const cur = history.state(txid);
  const prev = history.state(txid - 1);
  const size = history.pageSize;
  const pages: number[] = [];
  for (let pgno = 1; pgno <= cur.byteLength / size; pgno++) {
    if (pgno * size > prev.byteLength || !pageOf(cur, pgno, size).equals(pageOf(prev, pgno, size))) pages.push(pgno);
  }
  return pages;
}

function rowText(txid: number, i: number, length: number): string {
  const seed = `tx${txid}-row${i}-`;
  return seed.repeat(Math.ceil(length / seed.length)).slice(0, length);
}
