import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { lz4Napi } from '../../../lz4/block.ts';
import { v03SegmentPath, v03SnapshotPath } from '../v03-catalog.ts';

/**
 * A Litestream v0.3 replica in a directory, made the way v0.3 makes one but by this test
 * helper, from a real SQLite database: one generation whose snapshots are copies of the
 * database file and whose WAL segments are byte ranges of its real `-wal` files, each range
 * ending at a commit, LZ4-framed. Object modification times are set one second apart in write
 * order (T0 + n s), so a restore at a time picks a known prefix.
 *
 *   snapshot 0 (state 0)
 *   WAL index 0: segment at 0 (header + txn 1), segment (txns 2–3), segment (txn 4)  → states 1, 2, 3
 *   checkpoint; WAL index 1: segment at 0 (txn 5, deletes), segment (txn 6)          → states 4, 5
 *   snapshot 1 (state 5, taken after index 1 is checkpointed, like v0.3 at index 1)
 *   checkpoint; WAL index 2: segment at 0 (txn 7, grows the file)                   → state 6
 *
 * The real v0.3 binary's replicas are exercised in packages/cli/src/e2e/v03-restore.test.ts;
 * this one lets unit tests cut, damage and time objects precisely.
 */
export interface V03Fixture {
  readonly root: string;
  readonly generation: string;
  /** Content digest of table `t` for each state (see `contentOf`). */
  readonly states: readonly string[];
  /** Every object in write order, with the state it completes and its time. */
  readonly objects: readonly { readonly path: string; readonly state: number; readonly at: Date }[];
  /** Raw (uncompressed) bytes of each object, by path: tests damage and recompress them. */
  readonly raw: ReadonlyMap<string, Buffer>;
  readonly pageSize: number;
}

export const V03_GENERATION = '0123456789abcdef';
export const T0 = new Date('2026-03-01T10:00:00.000Z');

/** Digest of table `t`'s rows in id order (what a restore must reproduce). */
export function contentOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, body FROM t ORDER BY id').raw().all();
    return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  } finally {
    db.close();
  }
}

/**
 * LZ4 frame of `data` with a content checksum, as v0.3 wrote them (lz4-napi's frame encoder: a
 * second producer next to v0.3's own, which the e2e test covers).
 */
export function lz4Frame(data: Uint8Array): Buffer {
  return lz4Napi().compressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { contentChecksum: true });
}

export async function buildV03Fixture(dir: string): Promise<V03Fixture> {
  const root = join(dir, 'replica');
  const dbPath = join(dir, 'source.db');
  await mkdir(dir, { recursive: true });
  const db = new Database(dbPath);
  db.pragma('journal_mode = wal');
  db.pragma('wal_autocheckpoint = 0');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  const txn = (fn: () => void): void => db.transaction(fn)();
  const rows = (n: number, tag: string): void => txn(() => {
    for (let i = 0; i < n; i++) insert.run(`${tag}-${i}-${'x'.repeat(200 + (i % 7) * 150)}`);
  });
  rows(200, 'base');
  db.pragma('wal_checkpoint(TRUNCATE)');

  const states: string[] = [];
  const objects: { path: string; state: number; at: Date }[] = [];
  const raw = new Map<string, Buffer>();
  // No checkpoint until the script says so (wal_autocheckpoint=0): each WAL only grows.
  const state = (): number => {
    states.push(digestLive(db));
    return states.length - 1;
  };
  const put = async (path: string, bytes: Buffer, stateIndex: number): Promise<void> => {
    const at = new Date(T0.getTime() + objects.length * 1000);
    const file = join(root, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, lz4Frame(bytes));
    await utimes(file, at, at);
    objects.push({ path, state: stateIndex, at });
    raw.set(path, bytes);
  };
  const wal = async (): Promise<Buffer> => readFile(`${dbPath}-wal`);

  // snapshot 0: the database file with an empty WAL.
  await put(v03SnapshotPath(V03_GENERATION, 0), await readFile(dbPath), state());

  // WAL index 0, three segments ending at commits.
  rows(30, 'one');
  const s1 = state();
  let bytes = await wal();
  await put(v03SegmentPath(V03_GENERATION, 0, 0), bytes, s1);
  let offset = bytes.byteLength;
  rows(20, 'two');
  txn(() => db.prepare("UPDATE t SET body = 'updated ' || id WHERE id % 5 = 0").run());
  const s2 = state();
  bytes = await wal();
  await put(v03SegmentPath(V03_GENERATION, 0, offset), bytes.subarray(offset), s2);
  offset = bytes.byteLength;
  rows(40, 'four');
  const s3 = state();
  bytes = await wal();
  await put(v03SegmentPath(V03_GENERATION, 0, offset), bytes.subarray(offset), s3);

  // WAL index 1 after a checkpoint (a new WAL header and salts).
  db.pragma('wal_checkpoint(TRUNCATE)');
  txn(() => db.prepare('DELETE FROM t WHERE id % 3 = 0').run());
  const s4 = state();
  bytes = await wal();
  await put(v03SegmentPath(V03_GENERATION, 1, 0), bytes, s4);
  offset = bytes.byteLength;
  rows(10, 'six');
  const s5 = state();
  bytes = await wal();
  await put(v03SegmentPath(V03_GENERATION, 1, offset), bytes.subarray(offset), s5);

  // snapshot 1 at index 2: index 1 checkpointed into the file.
  db.pragma('wal_checkpoint(TRUNCATE)');
  await put(v03SnapshotPath(V03_GENERATION, 2), await readFile(dbPath), s5);

  // WAL index 2: one big transaction that grows the database.
  rows(300, 'seven');
  const s6 = state();
  await put(v03SegmentPath(V03_GENERATION, 2, 0), await wal(), s6);
  db.close();
  return { root, generation: V03_GENERATION, states, objects, raw, pageSize };
}

function digestLive(db: Database.Database): string {
  const rows = db.prepare('SELECT id, body FROM t ORDER BY id').raw().all();
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}
