import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LtxApplier } from '../restore/ltx-applier.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { DB } from './db.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-db-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function openApp(path: string): Database.Database {
  const app = new Database(path, { timeout: 5000 });
  app.pragma('journal_mode = wal');
  app.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)');
  return app;
}

function insert(app: Database.Database, n: number, size = 100): void {
  const stmt = app.prepare('INSERT INTO t (body) VALUES (?)');
  app.transaction(() => {
    for (let i = 0; i < n; i++) stmt.run('x'.repeat(size) + Math.random());
  })();
}

/** Applies every staged L0 file to a fresh database and returns its bytes. */
async function restoreLocal(db: DB): Promise<Buffer> {
  const out = join(dir, `restored-${Math.random()}.db`);
  const applier = new LtxApplier(out);
  for (const f of await db.local.list()) await applier.apply(createReadStream(f.path), f.path);
  await applier.close();
  return readFile(out);
}

/**
 * Replicates a fresh database once, then stops both the replicator and the application, so a
 * test can change the database behind the replicator's back.
 */
async function replicateOnceThenStop(path: string, rows = 40): Promise<void> {
  const app = new AppProcess(path);
  await app.insert(rows);
  const db = new DB(path);
  await db.sync();
  await db.close();
  await app.close();
}

/** Restarts the replicator: its next sync must be a full image equal to the application's state. */
async function expectFullImageOnRestart(path: string): Promise<void> {
  const app = new AppProcess(path);
  await app.request({ op: 'count' });
  const db = new DB(path);
  await db.open();
  expect(await db.sync()).toMatchObject({ txid: 2, kind: 'full-image' });
  expect(sha256(await restoreLocal(db))).toBe(await app.hash());
  await db.close();
  await app.close();
}

/** The logical database image as SQLite sees it now. */
const image = (app: Database.Database) => app.serialize();

describe('DB sync', () => {
  it('starts with a snapshot, then writes one L0 file per sync with the next TXID', async () => {
    const path = join(dir, 'app.db');
    const app = openApp(path);
    insert(app, 50);
    const db = new DB(path);
    await db.open();
    const first = await db.sync();
    expect(first).toMatchObject({ txid: 1, kind: 'snapshot' });
    expect(await restoreLocal(db)).toEqual(image(app));

    insert(app, 10);
    insert(app, 10, 5000); // rows on overflow pages
    const second = await db.sync();
    expect(second).toMatchObject({ txid: 2, kind: 'incremental' });
    expect(await db.sync()).toBeUndefined(); // idle: no file
    expect((await db.local.list()).map((f) => f.maxTXID)).toEqual([1, 2]);
    expect(await restoreLocal(db)).toEqual(image(app));
    await db.close();
    app.close();
  });

  it('encodes a large full image (main file and WAL frames) on worker threads, byte-exact', async () => {
    const path = join(dir, 'big.db');
    const app = openApp(path);
    // ~80 MB in the main file, past the size where page workers take over ...
    app.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO t (body) SELECT hex(randomblob(2000)) FROM n");
    app.pragma('wal_checkpoint(TRUNCATE)');
    // ... and newer pages in the WAL, which the image must take over the main file's.
    app.exec("UPDATE t SET body = 'changed ' || id WHERE id % 97 = 0");
    insert(app, 200);
    const db = new DB(path);
    await db.open();
    expect(await db.sync()).toMatchObject({ txid: 1, kind: 'snapshot' });
    expect(sha256(await restoreLocal(db))).toBe(sha256(image(app)));
    await db.close();
    app.close();
  }, 60_000);

  it('takes its first full image while a checkpoint has written page 1 but not yet grown the file', async () => {
    const path = join(dir, 'growing.db');
    const app = openApp(path);
    app.pragma('wal_autocheckpoint = 0');
    insert(app, 20);
    app.pragma('wal_checkpoint(TRUNCATE)');
    // The database grows in the WAL only ...
    insert(app, 2000, 200);
    // ... and a checkpoint (which copies pages in page order) has copied page 1 so far: the main
    // file's header already counts pages the file does not hold yet.
    const wal = await readFile(`${path}-wal`);
    const pageSize = wal.readUInt32BE(8);
    let page1: Buffer | undefined;
    for (let at = 32; at + 24 + pageSize <= wal.byteLength; at += 24 + pageSize) {
      if (wal.readUInt32BE(at) === 1) page1 = wal.subarray(at + 24, at + 24 + pageSize);
    }
    const fh = await open(path, 'r+');
    await fh.write(page1!, 0, pageSize, 0);
    await fh.close();
    expect(page1!.readUInt32BE(28) * pageSize).toBeGreaterThan((await stat(path)).size);
    const db = new DB(path);
    await db.open();
    expect(await db.sync()).toMatchObject({ txid: 1, kind: 'snapshot' });
    expect(sha256(await restoreLocal(db))).toBe(sha256(image(app)));
    await db.close();
    app.close();
  });

  it('keeps a restorable chain across its own PASSIVE checkpoints and WAL restarts', async () => {
    const path = join(dir, 'app.db');
    const app = openApp(path);
    const db = new DB(path, { minCheckpointPageCount: 20 });
    await db.open();
    await db.sync();
    for (let round = 0; round < 6; round++) {
      insert(app, 200);
      await db.syncAndMaybeCheckpoint();
    }
    insert(app, 3);
    await db.sync();
    const files = await db.local.list();
    expect(files.length).toBeGreaterThan(6);
    expect(await restoreLocal(db)).toEqual(image(app));
    await db.close();
    app.close();
  });

  it('resumes from its staged files after a restart without a new snapshot', async () => {
    const path = join(dir, 'app.db');
    const app = openApp(path);
    insert(app, 20);
    let db = new DB(path);
    await db.sync();
    await db.close();
    insert(app, 20);
    db = new DB(path);
    await db.open();
    const result = await db.sync();
    expect(result).toMatchObject({ txid: 2, kind: 'incremental' });
    expect(await restoreLocal(db)).toEqual(image(app));
    await db.close();
    app.close();
  });

  it('writes a full image when another process checkpointed and restarted the WAL while it was stopped', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(20);
    let db = new DB(path);
    await db.sync();
    await db.close();
    await app.insert(30);
    // Another process: a checkpoint that truncates the WAL, then more writes in a new WAL.
    execFileSync('sqlite3', [path, 'PRAGMA wal_checkpoint(TRUNCATE);']);
    await app.insert(5);
    db = new DB(path);
    await db.open();
    expect(await db.sync()).toMatchObject({ txid: 2, kind: 'full-image' });
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await app.insert(5);
    expect(await db.sync()).toMatchObject({ txid: 3, kind: 'incremental' });
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('starts over with a snapshot when the meta directory is deleted', async () => {
    const path = join(dir, 'app.db');
    const app = openApp(path);
    insert(app, 20);
    let db = new DB(path);
    await db.sync();
    insert(app, 20);
    await db.sync();
    await db.close();
    await rm(db.metaPath, { recursive: true });
    db = new DB(path);
    expect(await db.sync()).toMatchObject({ txid: 1, kind: 'snapshot' });
    expect(await restoreLocal(db)).toEqual(image(app));
    await db.close();
    app.close();
  });

  it('follows an in-place VACUUM by the application', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(300, 500);
    const db = new DB(path);
    await db.sync();
    await app.request({ op: 'exec', sql: 'DELETE FROM t WHERE id % 3 = 0' });
    await db.sync();
    await app.request({ op: 'exec', sql: 'VACUUM' });
    const result = await db.sync();
    expect(result?.kind).toBe('incremental');
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it("keeps its frames when another process asks for a TRUNCATE checkpoint while it replicates", async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(50);
    const db = new DB(path);
    await db.sync();
    await app.insert(50);
    // Our read transaction pins the WAL: the other process's checkpoint cannot reset it.
    const out = execFileSync('sqlite3', ['-cmd', '.timeout 200', path, 'PRAGMA wal_checkpoint(TRUNCATE);']).toString().trim();
    expect(out.split('|')[0]).toBe('1'); // busy
    expect(await db.sync()).toMatchObject({ txid: 2, kind: 'incremental' });
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('writes a full image when the database file was replaced while it was stopped', async () => {
    const path = join(dir, 'app.db');
    await replicateOnceThenStop(path);
    // Another database (different content and size) takes the file's place.
    const other = join(dir, 'other.db');
    const replacement = new AppProcess(other);
    await replacement.insert(7, 3000);
    await replacement.close();
    await rm(`${path}-wal`, { force: true });
    await rm(`${path}-shm`, { force: true });
    await copyFile(other, path);
    await expectFullImageOnRestart(path);
  });

  it('writes a full image when the database was truncated to nothing while it was stopped', async () => {
    const path = join(dir, 'app.db');
    await replicateOnceThenStop(path);
    await rm(`${path}-wal`, { force: true });
    await rm(`${path}-shm`, { force: true });
    await truncate(path, 0);
    const app = new AppProcess(path); // an empty file is an empty database; the app recreates its table
    await app.insert(2);
    await app.close();
    await expectFullImageOnRestart(path);
  });

  it('writes a full image when the WAL was checkpointed and deleted while it was stopped', async () => {
    const path = join(dir, 'app.db');
    let app = new AppProcess(path);
    await app.insert(40);
    let db = new DB(path);
    await db.sync();
    await db.close();
    await app.insert(40); // never copied: the last connection's close folds it into the file and deletes the WAL
    await app.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    db = new DB(path);
    await db.open();
    app = new AppProcess(path);
    expect(await db.sync()).toMatchObject({ txid: 2, kind: 'full-image' });
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('keeps a restorable chain across its own TRUNCATE checkpoints', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(1);
    const logger = new RecordingLogger();
    const db = new DB(path, { truncatePageN: 30, minCheckpointPageCount: 10_000, logger });
    await db.open();
    await db.sync();
    for (let round = 0; round < 5; round++) {
      await app.insert(150, 1000); // ~40 pages: past truncatePageN every round
      await db.syncAndMaybeCheckpoint();
    }
    await app.insert(3);
    await db.sync();
    const truncations = logger.records.filter((r) => r.message === 'checkpoint completed' && r.fields.mode === 'TRUNCATE' && r.fields.restarted === true);
    expect(truncations.length).toBeGreaterThanOrEqual(3);
    // No commit slipped between the last copy and a truncation, so no full image was needed.
    expect((await db.local.list()).filter((f) => f.minTXID === 1)).toHaveLength(1);
    expect(sha256(await restoreLocal(db))).toBe(await app.hash());
    await db.close();
    await app.close();
  });
});
