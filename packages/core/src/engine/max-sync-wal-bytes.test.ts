import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { LtxApplier } from '../restore/ltx-applier.ts';
import { WAL_FRAME_HEADER_SIZE } from '../sqlite/wal.ts';
import { syncedApp } from '../test-support/synced-app.ts';
import { DB } from './db.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-max-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FRAME = WAL_FRAME_HEADER_SIZE + 4096;

/** The SHA-256 of the database rebuilt from every staged file, in order. */
async function restoredHash(db: DB): Promise<string> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  const applier = new LtxApplier(out);
  for (const f of await db.local.list()) await applier.apply(createReadStream(f.path), f.path);
  await applier.close();
  return createHash('sha256').update(await readFile(out)).digest('hex');
}

/** The staged files after the initial full image, with the WAL bytes each covers. */
async function incrementals(db: DB) {
  const files = (await db.local.list()).slice(1);
  return Promise.all(files.map(async (f) => ({ minTXID: f.minTXID, maxTXID: f.maxTXID, walSize: (await db.local.readEnds(f)).header.walSize })));
}

describe('maxSyncWalBytes', () => {
  it('splits what one sync finds into files of at most that many WAL bytes, each ending at a commit', async () => {
    const { app, db } = await syncedApp(dir, 1, { maxSyncWalBytes: 3 * FRAME }); // its first sync staged the initial full image
    // Ten small transactions, one or two frames each, found by a single sync.
    for (let i = 0; i < 10; i++) await app.insert(1, 50);
    const result = await db.sync();
    const files = await incrementals(db);
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(f.walSize).toBeLessThanOrEqual(3 * FRAME);
    for (let i = 1; i < files.length; i++) expect(files[i]!.minTXID).toBe(files[i - 1]!.maxTXID + 1);
    expect(result?.txid).toBe(files[files.length - 1]!.maxTXID);
    expect(await restoredHash(db)).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('still takes a transaction larger than the limit whole, and goes on in bounded files after it', async () => {
    const { app, db } = await syncedApp(dir, 1, { maxSyncWalBytes: 4 * FRAME });
    await app.insert(200, 400); // about 20 pages in one transaction
    for (let i = 0; i < 20; i++) await app.insert(1, 50);
    await db.sync();
    const files = await incrementals(db);
    expect(files[0]!.walSize).toBeGreaterThan(10 * FRAME);
    // The window grew to hold the large transaction (and may take a few small ones along); the rest stay small.
    expect(files.length).toBeGreaterThan(2);
    for (const f of files.slice(1)) expect(f.walSize).toBeLessThanOrEqual(4 * FRAME);
    expect(await restoredHash(db)).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('writes one file per sync without it, and refuses a bad value', async () => {
    const { path, app, db } = await syncedApp(dir, 1);
    for (let i = 0; i < 10; i++) await app.insert(1, 50);
    await db.sync();
    expect(await incrementals(db)).toHaveLength(1);
    await db.close();
    await app.close();
    expect(() => new DB(path, { maxSyncWalBytes: -1 })).toThrow(UsageError);
  });
});
