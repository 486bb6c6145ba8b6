import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import type { LtxFileRef, WriteLtxOptions, WriteLtxResult } from '../replica/replica-client.ts';
import { snapshotDatabaseFile } from '../sqlite/snapshot.ts';
import { MemorySink, decodeAll } from '../test-support/streams.ts';
import { compactLevel } from './compact-level.ts';
import { buildDatabaseHistory, changedPages, pageOf, type DatabaseHistory } from './test-support/database-history.ts';
import { label, levelZeroFile, minute, range, writeLevelZero, writeSnapshot } from './test-support/ltx-fixtures.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { applyChain } from './test-support/restore-plan.ts';

let work: string;
let history: DatabaseHistory;
let client: FileReplicaClient;
let caseDir: string;
let caseNo = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'compact-level-'));
  history = await buildDatabaseHistory(work, 20);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(async () => {
  caseDir = join(work, `case-${++caseNo}`);
  client = new FileReplicaClient(join(caseDir, 'replica'));
});

async function levelFiles(level: number): Promise<string[]> {
  const out: string[] = [];
  for await (const info of client.listLtxFiles(level)) out.push(label(info));
  return out;
}

/** An LTX snapshot of a database of `rows` random 900-byte blobs: pages that do not compress. */
async function blobSnapshot(rows: number): Promise<Buffer> {
  await mkdir(caseDir, { recursive: true });
  const dbPath = join(caseDir, `blobs-${rows}.db`);
  const db = new Database(dbPath);
  db.pragma('page_size = 1024');
  db.exec('CREATE TABLE b (x BLOB)');
  const insert = db.prepare('INSERT INTO b VALUES (randomblob(900))');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run();
  })();
  db.close();
  const sink = new MemorySink();
  await snapshotDatabaseFile(dbPath, sink, { txid: 1, timestamp: minute(1).getTime() });
  return sink.bytes;
}

async function decodeStored(ref: LtxFileRef) {
  return decodeAll(client.ltxPath(ref));
}

describe('compactLevel', () => {
  it('history fixture: states grow and shrink, so merges must drop pages past the final commit', () => {
    const pages = range(1, history.lastTXID).map((t) => history.state(t).byteLength / history.pageSize);
    expect(pages.some((n, i) => i > 0 && n < pages[i - 1]!)).toBe(true);
    expect(pages.some((n, i) => i > 0 && n > pages[i - 1]!)).toBe(true);
  });

  it('merges every new L0 file into one L1 file equal to applying them in order', async () => {
    const logger = new RecordingLogger();
    await writeLevelZero(client, history, range(1, 8));
    const first = await compactLevel(client, 1, { logger });
    expect(first).toMatchObject({ level: 1, minTXID: 1, maxTXID: 8, createdAt: minute(8) });
    expect(await levelFiles(1)).toEqual(['L1:1-8']);
    // Starting at TXID 1, the merge is a full snapshot of state 8.
    expect((await applyChain(client, [first!], join(caseDir, 'a.db'))).equals(history.state(8))).toBe(true);

    await writeLevelZero(client, history, range(9, 14));
    await writeSnapshot(client, history, 8);
    const second = await compactLevel(client, 1, { logger });
    expect(second).toMatchObject({ level: 1, minTXID: 9, maxTXID: 14, createdAt: minute(14) });
    expect(second!.size).toBe((await readFile(client.ltxPath(second!))).byteLength);
    expect(await levelFiles(1)).toEqual(['L1:1-8', 'L1:9-14']);

    const merged = await decodeStored(second!);
    const final = history.state(14);
    const commit = final.byteLength / history.pageSize;
    expect(merged.header).toMatchObject({ minTXID: 9, maxTXID: 14, commit, timestamp: minute(14).getTime(), preApplyChecksum: history.checksum(8) });
    expect(merged.postApplyChecksum).toBe(history.checksum(14));
    // The page set is the union of the inputs' pages that survive the final commit, each at its latest version.
    const union = new Set(range(9, 14).flatMap((t) => changedPages(history, t)));
    expect(merged.pages.map((p) => p.pgno)).toEqual([...union].filter((p) => p <= commit).sort((a, b) => a - b));
    for (const page of merged.pages) expect(page.data.equals(pageOf(final, page.pgno, history.pageSize))).toBe(true);

    const restored = await applyChain(client, [{ level: 9, minTXID: 1, maxTXID: 8 }, second!], join(caseDir, 'b.db'));
    expect(restored.equals(final)).toBe(true);

    const done = logger.at('info').filter((r) => r.message === 'compaction completed');
    expect(done.map((r) => r.fields)).toMatchObject([
      { level: 1, minTXID: '0000000000000001', maxTXID: '0000000000000008', files: 8 },
      { level: 1, minTXID: '0000000000000009', maxTXID: '000000000000000e', files: 6, size: second!.size },
    ]);
    expect(logger.at('warn')).toEqual([]);
  });

  it('returns undefined and writes nothing when no new file arrived', async () => {
    await writeLevelZero(client, history, range(1, 5));
    expect(await compactLevel(client, 1)).toMatchObject({ minTXID: 1, maxTXID: 5 });
    expect(await compactLevel(client, 1)).toBeUndefined();
    expect(await levelFiles(1)).toEqual(['L1:1-5']);
    // An empty source level is nothing to do as well.
    expect(await compactLevel(client, 3)).toBeUndefined();
    expect(await levelFiles(3)).toEqual([]);
  });

  it('chains L0 → L1 → L2, and the L2 files restore the latest state', async () => {
    await writeLevelZero(client, history, range(1, 6));
    await compactLevel(client, 1);
    await writeLevelZero(client, history, range(7, 12));
    await compactLevel(client, 1);
    const l2a = await compactLevel(client, 2);
    expect(l2a).toMatchObject({ level: 2, minTXID: 1, maxTXID: 12, createdAt: minute(12) });
    expect(await compactLevel(client, 2)).toBeUndefined();

    await writeLevelZero(client, history, range(13, 18));
    expect(await compactLevel(client, 1)).toMatchObject({ minTXID: 13, maxTXID: 18 });
    const l2b = await compactLevel(client, 2);
    expect(l2b).toMatchObject({ level: 2, minTXID: 13, maxTXID: 18, createdAt: minute(18) });
    expect(await levelFiles(1)).toEqual(['L1:1-6', 'L1:7-12', 'L1:13-18']);
    expect(await levelFiles(2)).toEqual(['L2:1-12', 'L2:13-18']);

    // L1 files before L2's end are not merged again.
    const l3 = await compactLevel(client, 3);
    expect(l3).toMatchObject({ level: 3, minTXID: 1, maxTXID: 18 });
    expect(await compactLevel(client, 3)).toBeUndefined();

    expect((await applyChain(client, [l2a!, l2b!], join(caseDir, 'l2.db'))).equals(history.state(18))).toBe(true);
    expect((await applyChain(client, [l3!], join(caseDir, 'l3.db'))).equals(history.state(18))).toBe(true);
  });

  it('compacts only the prefix before a hole in L0 and names the missing TXIDs', async () => {
    const logger = new RecordingLogger();
    await writeLevelZero(client, history, [...range(1, 6), ...range(9, 12)]);
    const info = await compactLevel(client, 1, { logger });
    expect(info).toMatchObject({ minTXID: 1, maxTXID: 6 });
    expect(await levelFiles(1)).toEqual(['L1:1-6']);
    expect(logger.at('warn')).toEqual([
      {
        level: 'warn',
        message: 'compaction source gap',
        fields: { level: 0, missing: '0000000000000007-0000000000000008', reason: 'compacting only up to the hole', compactingThrough: '0000000000000006' },
      },
    ]);
    expect((await applyChain(client, [info!], join(caseDir, 'prefix.db'))).equals(history.state(6))).toBe(true);

    // The files after the hole go into a file of their own on the next run; the hole is named again.
    const after = await compactLevel(client, 1, { logger });
    expect(after).toMatchObject({ minTXID: 9, maxTXID: 12 });
    expect(logger.at('warn')[1]?.fields).toMatchObject({ level: 0, missing: '0000000000000007-0000000000000008', destinationEnd: '0000000000000006' });
    const merged = await decodeStored(after!);
    expect(merged.header.preApplyChecksum).toBe(history.checksum(8));
    expect(merged.postApplyChecksum).toBe(history.checksum(12));
  });

  it('compacts a source that starts after an empty destination (older files retained away)', async () => {
    const logger = new RecordingLogger();
    await writeSnapshot(client, history, 4);
    await writeLevelZero(client, history, range(5, 9));
    const info = await compactLevel(client, 1, { logger });
    expect(info).toMatchObject({ level: 1, minTXID: 5, maxTXID: 9 });
    expect(logger.at('warn')).toEqual([]);
    const restored = await applyChain(client, [{ level: 9, minTXID: 1, maxTXID: 4 }, info!], join(caseDir, 'late.db'));
    expect(restored.equals(history.state(9))).toBe(true);
  });

  it('rejects a damaged input naming it, and stores nothing', async () => {
    await writeLevelZero(client, history, range(1, 4));
    const ref = { level: 0, minTXID: 3, maxTXID: 3 };
    const bytes = await levelZeroFile(history, 3, minute(3));
    bytes[bytes.byteLength - 40]! ^= 0xff; // inside the page index / trailer region
    await writeFile(client.ltxPath(ref), bytes);

    const failure = await compactLevel(client, 1).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LitestreamError);
    expect((failure as Error).message).toContain('level 0 0000000000000003-0000000000000003.ltx');
    expect(await levelFiles(1)).toEqual([]);
    expect(await readdir(client.levelPath(1)).catch(() => [])).toEqual([]);
  });

  it('reports the store’s failure instead of hanging when the upload breaks mid-file', async () => {
    class BrokenStore extends FileReplicaClient {
      chunksRead = 0;
      protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
        if (ref.level === 0) return super._writeLtxFile(ref, data, options);
        for await (const _chunk of data) {
          this.chunksRead++;
          throw new Error('disk full');
        }
        throw new Error('unreachable');
      }
    }
    // Incompressible pages make the output far larger than the pipe's buffer, so the
    // compactor is waiting for 'drain' when the store gives up.
    const snapshot = await blobSnapshot(400);
    expect(snapshot.byteLength).toBeGreaterThan(256 * 1024);

    const broken = new BrokenStore(join(caseDir, 'broken'));
    await broken.writeLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }, snapshot, { timestamp: minute(1) });
    await expect(compactLevel(broken, 1)).rejects.toThrow('disk full');
    expect(broken.chunksRead).toBe(1);
    expect(await readdir(broken.levelPath(1)).catch(() => [])).toEqual([]);
  });

  it('stores nothing when an input turns out damaged after the upload has started', async () => {
    // Over 1 MiB of output, so the first chunk is already uploading when the damaged
    // trailer of the input is found.
    const snapshot = await blobSnapshot(1400);
    expect(snapshot.byteLength).toBeGreaterThan(1.2 * 1024 * 1024);
    snapshot[snapshot.byteLength - 1]! ^= 0x01; // file checksum
    await client.writeLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }, snapshot, { timestamp: minute(1) });
    let uploadStarted = false;
    const watched = new (class extends FileReplicaClient {
      protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
        uploadStarted = true;
        return super._writeLtxFile(ref, data, options);
      }
    })(client.root);
    await expect(compactLevel(watched, 1)).rejects.toThrow(/file checksum mismatch/);
    expect(uploadStarted).toBe(true);
    expect(await readdir(client.levelPath(1))).toEqual([]);
  });

  it('refuses destination levels outside 1..8', async () => {
    for (const level of [0, 9, 1.5, -1]) await expect(compactLevel(client, level)).rejects.toThrow(UsageError);
  });
});
