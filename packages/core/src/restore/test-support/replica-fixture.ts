import Database from 'better-sqlite3';
import { cp, copyFile, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { compactLtx } from '../../ltx/compactor.ts';
import { LtxEncoder } from '../../ltx/encoder.ts';
import type { LtxFileRef } from '../../replica/replica-client.ts';
import { databaseChecksum } from '../../sqlite/database-checksum.ts';
import { snapshotDatabaseFile } from '../../sqlite/snapshot.ts';
import { MemorySink } from '../../test-support/streams.ts';

/** Number of transactions the fixture database goes through. */
export const LAST_TXID = 6;

/**
 * A file replica of a real database that went through six states (TXIDs 1..6; TXID 5
 * deletes half the rows and auto-vacuum shrinks the file). The replica holds:
 * - level 0: `1-1` (a snapshot of state 1) and incrementals `2-2` … `6-6` with the changed pages;
 * - level 1: `2-5`, the compaction of L0 `2-2` … `5-5`;
 * - level 9: `1-3`, a snapshot of state 3.
 * File timestamps are `timeOf(txid)`: one second apart, the L1 file carrying L0 `5-5`'s.
 */
export interface ReplicaFixture {
  /** Replica directory (use `copyReplica` before changing it). */
  readonly root: string;
  /** `states[n]` is a copy of the database file at TXID n (index 0 unused). */
  readonly states: readonly string[];
  timeOf(txid: number): Date;
}

const BASE_TIME = Date.UTC(2026, 0, 2, 3, 4, 0);

export async function buildReplicaFixture(dir: string): Promise<ReplicaFixture> {
  const root = join(dir, 'replica');
  const statesDir = join(dir, 'states');
  await mkdir(statesDir, { recursive: true });
  const client = new FileReplicaClient(root);
  const timeOf = (txid: number) => new Date(BASE_TIME + txid * 1000);

  const source = join(dir, 'source.db');
  const db = new Database(source);
  // Full auto-vacuum: deleting rows shrinks the file at commit without rewriting every page.
  db.pragma('auto_vacuum = FULL');
  db.pragma('journal_mode = WAL');
  const steps: Array<() => void> = [
    () => db.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, body BLOB); CREATE INDEX t_name ON t(name);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
      INSERT INTO t SELECT i, 'row-' || i, randomblob(1000) FROM n;`),
    // Rows larger than a page: overflow chains, the file grows a lot.
    () => db.exec(`WITH RECURSIVE n(i) AS (SELECT 21 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
      INSERT INTO t SELECT i, 'row-' || i, randomblob(5000) FROM n;`),
    () => db.exec(`UPDATE t SET body = randomblob(1200), name = name || '-u' WHERE id % 3 = 0;`),
    () => db.exec(`WITH RECURSIVE n(i) AS (SELECT 61 UNION ALL SELECT i + 1 FROM n WHERE i < 90)
      INSERT INTO t SELECT i, 'row-' || i, randomblob(3000) FROM n;`),
    // Shrinks the database: later files have a smaller commit than earlier ones.
    () => db.exec(`DELETE FROM t WHERE id % 2 = 0;`),
    () => db.exec(`INSERT INTO t(name, body) VALUES ('late-1', randomblob(700)), ('late-2', randomblob(7000));`),
  ];
  const states: string[] = [''];
  for (let txid = 1; txid <= steps.length; txid++) {
    steps[txid - 1]!();
    // Every committed page into the main file, so the file is the state at this TXID.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const state = join(statesDir, `${txid}.db`);
    await copyFile(source, state);
    states.push(state);
  }
  db.close();

  const l0: Buffer[] = [Buffer.alloc(0)];
  for (let txid = 1; txid <= LAST_TXID; txid++) {
    const bytes = txid === 1 ? await snapshotBytes(states[1]!, 1, timeOf(1)) : await incrementalBytes(states[txid - 1]!, states[txid]!, txid, timeOf(txid));
    l0.push(bytes);
    await client.writeLtxFile(ref(0, txid, txid), bytes, { timestamp: timeOf(txid) });
  }

  const compacted = new MemorySink();
  await compactLtx(
    [2, 3, 4, 5].map((txid) => ({ source: Readable.from([l0[txid]!]), name: `0/${txid}` })),
    compacted,
  );
  await client.writeLtxFile(ref(1, 2, 5), compacted.bytes, { timestamp: timeOf(5) });
  await client.writeLtxFile(ref(9, 1, 3), await snapshotBytes(states[3]!, 3, timeOf(3)), { timestamp: timeOf(3) });
  return { root, states, timeOf };
}

/** A copy of the fixture's replica (file times kept) that a test may damage. */
export async function copyReplica(fixture: ReplicaFixture, dest: string): Promise<FileReplicaClient> {
  await cp(fixture.root, dest, { recursive: true, preserveTimestamps: true });
  return new FileReplicaClient(dest);
}

export function ref(level: number, minTXID: number, maxTXID: number): LtxFileRef {
  return { level, minTXID, maxTXID };
}

/** A snapshot (TXIDs 1..txid) of a database file. */
export async function snapshotBytes(path: string, txid: number, time: Date): Promise<Buffer> {
  const sink = new MemorySink();
  await snapshotDatabaseFile(path, sink, { txid, timestamp: time.getTime() });
  return sink.bytes;
}

/** An L0 file `txid-txid` holding the pages that differ between two states of a database. */
async function incrementalBytes(before: string, after: string, txid: number, time: Date): Promise<Buffer> {
  const pre = await databaseChecksum(before);
  const post = await databaseChecksum(after);
  const old = await readFile(before);
  const cur = await readFile(after);
  const sink = new MemorySink();
  const encoder = new LtxEncoder(sink, {
    pageSize: post.pageSize,
    commit: post.pageCount,
    minTXID: txid,
    maxTXID: txid,
    timestamp: time.getTime(),
    preApplyChecksum: pre.checksum,
  });
  const size = post.pageSize;
  for (let pgno = 1; pgno <= post.pageCount; pgno++) {
    const page = cur.subarray((pgno - 1) * size, pgno * size);
    const was = pgno <= pre.pageCount ? old.subarray((pgno - 1) * size, pgno * size) : undefined;
    if (!was || !was.equals(page)) await encoder.writePage(pgno, page);
  }
  await encoder.finish(post.checksum);
  return sink.bytes;
}

/** Flips one byte of a file in place. */
export async function flipByte(path: string, offset: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, offset);
    b[0]! ^= 0xff;
    await fh.write(b, 0, 1, offset);
  } finally {
    await fh.close();
  }
}

/** A logger that keeps every line, for assertions. */
export { RecordingLogger } from '../../test-support/recording-logger.ts';
