import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LtxFileRef, WriteLtxOptions, WriteLtxResult } from '../replica/replica-client.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger, type LogRecord } from '../test-support/recording-logger.ts';
import { defaultMetaPath } from './db.ts';
import { noMetrics, type EngineMetrics } from './metrics.ts';
import { readReplicaHealth } from './replica-health.ts';
import { Store, type StoreOptions } from './store.ts';

// A byte flipped in a file the replica already holds (bit rot, a faulty store or proxy) is
// found by whatever reads it next, and repaired with a full image. Real SQLite, the real
// file backend; the byte is flipped in the stored file itself.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-repair-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3_600_000;
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Flips one byte in the middle of a file, as a damaged disk or store would. */
async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.byteLength >> 1]! ^= 0x5a;
  await writeFile(path, bytes);
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

const lines = (logger: RecordingLogger, message: string, level?: LogRecord['level']) => logger.records.filter((r) => r.message === message && (level === undefined || r.level === level));
/** Level-9 snapshots written (the DB says "snapshot written" for its full images too). */
const level9Snapshots = (logger: RecordingLogger) => lines(logger, 'snapshot written').filter((r) => r.fields.level === 9);

/** Metrics that remember every health report. */
function healthMetrics(): EngineMetrics & { health: boolean[]; found: string[]; repairs: number } {
  return {
    ...noMetrics,
    health: [],
    found: [],
    repairs: 0,
    replicaHealthy(_db, _replica, healthy) {
      this.health.push(healthy);
    },
    replicaCorruption(_db, _replica, by) {
      this.found.push(by);
    },
    replicaRepaired() {
      this.repairs += 1;
    },
  };
}

/** The real file backend; full images (files 1-N, N > 1) can be held back until released. */
class GatedFileClient extends FileReplicaClient {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  heldImages = 0;
  holdFullImages(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
    if (this.gate && ref.level === 0 && ref.minTXID === 1 && ref.maxTXID > 1) {
      this.heldImages += 1;
      await this.gate;
    }
    return super._writeLtxFile(ref, data, options);
  }
}

/**
 * Replicates a few transactions with no compaction, so every L0 file is still to be read by
 * the next compaction, snapshot or validation; returns the app and the L0 files' TXIDs.
 */
async function replicateSome(path: string, client: FileReplicaClient): Promise<AppProcess> {
  const app = new AppProcess(path);
  await app.insert(10);
  const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: HOUR }], snapshotInterval: HOUR });
  await store.start();
  // The initial snapshot is TXID 1 whatever the loop's timing; each insert below is one more.
  await store.syncAndWait(path);
  for (let i = 0; i < 4; i++) {
    await app.insert(3, 500);
    await store.syncAndWait(path);
  }
  await store.stop();
  return app;
}

/** Restores the replica's latest state and checks it equals the writer's database. */
async function expectRestoresTo(client: FileReplicaClient, app: AppProcess): Promise<void> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  await restore({ client, outputPath: out, integrityCheck: 'full' });
  expect(await sha256(out)).toBe(await app.hash());
}

/** The one error line naming the corrupt file, with the fields an operator needs. */
function expectOneCorruptLine(logger: RecordingLogger, client: FileReplicaClient, ref: LtxFileRef, detectedBy: string): void {
  const found = lines(logger, 'replica file corrupt');
  expect(found.map((r) => r.level)).toEqual(['error']);
  expect(found[0]!.fields).toMatchObject({
    file: client.ltxPath(ref),
    level: ref.level,
    minTXID: ref.minTXID.toString(16).padStart(16, '0'),
    maxTXID: ref.maxTXID.toString(16).padStart(16, '0'),
    detectedBy,
  });
  expect(String(found[0]!.fields.check)).toMatch(/checksum|structure/);
}

async function levelFiles(client: FileReplicaClient, level: number): Promise<string[]> {
  const names: string[] = [];
  for await (const f of client.listLtxFiles(level)) names.push(`${f.minTXID}-${f.maxTXID}`);
  return names;
}

describe('corrupt replica files are repaired', () => {
  it('found by compaction: logged once naming the file, unhealthy until a full image is uploaded, then deleted; restores equal the writer', async () => {
    const path = join(dir, 'app.db');
    const client = new GatedFileClient(join(dir, 'replica'));
    const app = await replicateSome(path, client);
    const bad = { level: 0, minTXID: 3, maxTXID: 3 };
    await flipByte(client.ltxPath(bad));

    const logger = new RecordingLogger();
    const metrics = healthMetrics();
    client.holdFullImages();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: 200 }], snapshotInterval: HOUR, logger, metrics });
    await store.start();
    await app.insert(2); // commits go on during the repair

    // The next compaction reads the file and finds it corrupt; the repair's image is held back.
    await waitFor('the corrupt file to be reported', () => lines(logger, 'replica file corrupt').length > 0);
    await waitFor('the full image to be on its way', () => client.heldImages > 0);
    expect(store.syncStatus()[0]).toMatchObject({ healthy: false, corruptFiles: [client.ltxPath(bad)] });
    // What `litestream status` reads while the repair is under way.
    const during = await readReplicaHealth(defaultMetaPath(path));
    expect(during).toMatchObject({ healthy: false, files: [{ file: client.ltxPath(bad), level: 0, minTXID: 3, maxTXID: 3, detectedBy: 'compaction' }] });
    expect(metrics.health.at(-1)).toBe(false);

    client.release();
    await waitFor('the repair', () => lines(logger, 'replica repaired').length > 0);
    expect(store.syncStatus()[0]!.healthy).toBe(true);
    await waitFor('the corrupt file to be deleted', () => lines(logger, 'corrupt replica files deleted').length > 0);
    expect(await levelFiles(client, 0)).not.toContain('3-3');
    expect(await readReplicaHealth(defaultMetaPath(path))).toBeUndefined();

    // Compaction goes on from the full image, past the deleted file.
    await app.insert(2);
    await store.syncAndWait(path);
    const compactions = lines(logger, 'compaction completed').length;
    await waitFor('a compaction after the repair', () => lines(logger, 'compaction completed').length > compactions);
    await store.stop();

    expectOneCorruptLine(logger, client, bad, 'compaction');
    expect(lines(logger, 'writing a full database image')).toHaveLength(1);
    expect(lines(logger, 'maintenance error')).toEqual([]);
    expect(metrics.health).toEqual([true, false, true]);
    expect(metrics.found).toEqual(['compaction']);
    expect(metrics.repairs).toBe(1);
    expect(store.syncStatus()[0]!.healthy).toBe(true);
    await expectRestoresTo(client, app);
    await app.close();
  }, 60_000);

  it('a corrupt level-1 file, found by the level-2 compaction, is repaired the same way', async () => {
    const path = join(dir, 'app.db');
    const client = new FileReplicaClient(join(dir, 'replica'));
    const app = new AppProcess(path);
    await app.insert(10);
    const before = new RecordingLogger();
    let store = new Store({ databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: 100 }, { level: 2, interval: HOUR }], snapshotInterval: HOUR, logger: before });
    await store.start();
    for (let i = 0; i < 3; i++) {
      await app.insert(3, 500);
      await store.syncAndWait(path);
    }
    await waitFor('a level-1 compaction', () => lines(before, 'compaction completed').length > 0);
    await store.stop();
    const [first] = await levelFiles(client, 1);
    const [min, max] = first!.split('-').map(Number);
    const bad = { level: 1, minTXID: min!, maxTXID: max! };
    await flipByte(client.ltxPath(bad));

    const logger = new RecordingLogger();
    store = new Store({ databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: HOUR }, { level: 2, interval: 200 }], snapshotInterval: HOUR, logger });
    await store.start();
    await app.insert(2);
    await waitFor('the repair', () => lines(logger, 'replica repaired').length > 0);
    await waitFor('the corrupt file to be deleted', () => lines(logger, 'corrupt replica files deleted').length > 0);
    await store.syncAndWait(path);
    await store.stop();
    expectOneCorruptLine(logger, client, bad, 'compaction');
    expect(await levelFiles(client, 1)).not.toContain(first);
    expect(lines(logger, 'maintenance error')).toEqual([]);
    await expectRestoresTo(client, app);
    await app.close();
  }, 60_000);

  it('found by the level-9 snapshot: repaired, and the snapshot written afterwards restores equal the writer', async () => {
    const path = join(dir, 'app.db');
    const client = new FileReplicaClient(join(dir, 'replica'));
    const app = await replicateSome(path, client);
    const bad = { level: 0, minTXID: 4, maxTXID: 4 };
    await flipByte(client.ltxPath(bad));

    const logger = new RecordingLogger();
    const metrics = healthMetrics();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: HOUR }], snapshotInterval: 200, logger, metrics });
    await store.start();
    await app.insert(2);
    await waitFor('the repair', () => lines(logger, 'replica repaired').length > 0);
    await app.insert(2);
    await store.syncAndWait(path);
    await waitFor('a level-9 snapshot after the repair', () => level9Snapshots(logger).length > 0);
    await store.stop();

    expectOneCorruptLine(logger, client, bad, 'snapshot');
    expect(lines(logger, 'maintenance error')).toEqual([]);
    expect(metrics.health).toEqual([true, false, true]);
    expect(await levelFiles(client, 0)).not.toContain('4-4');
    await expectRestoresTo(client, app);
    // The snapshot alone (level 9) is a good state too: restore it by its TXID.
    const [snapshot] = await levelFiles(client, 9);
    const out = join(dir, 'from-snapshot.db');
    const txid = Number(snapshot!.split('-')[1]);
    expect((await restore({ client, outputPath: out, txid, integrityCheck: 'full' })).txid).toBe(txid);
    await app.close();
  }, 60_000);

  it('found by validation (validationInterval): repaired without any compaction or snapshot', async () => {
    const path = join(dir, 'app.db');
    const client = new FileReplicaClient(join(dir, 'replica'));
    const app = await replicateSome(path, client);
    const bad = { level: 0, minTXID: 5, maxTXID: 5 };
    await flipByte(client.ltxPath(bad));

    const logger = new RecordingLogger();
    const metrics = healthMetrics();
    const options: StoreOptions = { databases: [{ path, replica: client }], monitorInterval: 25, levels: [{ level: 1, interval: HOUR }], snapshotInterval: HOUR, validationInterval: 150, logger, metrics };
    const store = new Store(options);
    await store.start();
    await app.insert(2);
    await waitFor('the repair', () => lines(logger, 'replica repaired').length > 0);
    await waitFor('the corrupt file to be deleted', () => lines(logger, 'corrupt replica files deleted').length > 0);
    // Validation goes on (it re-reads what is new) and finds nothing more.
    await app.insert(2);
    await store.syncAndWait(path);
    await sleep(600);
    await store.stop();

    expectOneCorruptLine(logger, client, bad, 'validation');
    expect(lines(logger, 'compaction completed')).toEqual([]);
    expect(level9Snapshots(logger)).toEqual([]);
    expect(lines(logger, 'maintenance error')).toEqual([]);
    expect(metrics.health).toEqual([true, false, true]);
    expect(metrics.found).toEqual(['validation']);
    await expectRestoresTo(client, app);
    await app.close();
  }, 60_000);

  it('a store that keeps corrupting what it receives: repairs back off, one line for the streak, nothing lost once it stops', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    class CorruptingFileClient extends FileReplicaClient {
      corrupting = true;
      protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
        if (!this.corrupting || ref.level !== 0) return super._writeLtxFile(ref, data, options);
        const parts: Buffer[] = [];
        for await (const chunk of data) parts.push(Buffer.from(chunk));
        const bytes = Buffer.concat(parts);
        bytes[bytes.byteLength >> 1]! ^= 0x5a;
        return super._writeLtxFile(ref, (async function* () {
          yield bytes;
        })(), options);
      }
    }
    const client = new CorruptingFileClient(join(dir, 'replica'));
    const logger = new RecordingLogger();
    const metrics = healthMetrics();
    const store = new Store({
      databases: [{ path, replica: client }],
      monitorInterval: 20,
      levels: [{ level: 1, interval: 100 }],
      snapshotInterval: HOUR,
      repairBackoff: { initial: 500, max: 1000 },
      logger,
      metrics,
    });
    await store.start();
    // 3 s of commits, every file stored corrupt: without backoff that is a full image per compaction.
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      await app.insert(1);
      await sleep(30);
    }
    const repairs = metrics.repairs;
    expect(repairs).toBeGreaterThanOrEqual(2);
    // First repair at once, then 0.5 s, 1 s, 1 s, …: at most five in 3 s (a compaction every 0.1 s would allow ~30).
    expect(repairs).toBeLessThanOrEqual(5);
    expect(lines(logger, 'replica file corrupt', 'error')).toHaveLength(2); // the first, and "recurring"
    expect(lines(logger, 'replica file corrupt', 'error')[1]!.fields).toMatchObject({ recurring: true });

    client.corrupting = false;
    await waitFor('a repair once the store is sound', () => metrics.repairs > repairs && store.syncStatus()[0]!.healthy);
    await app.insert(3);
    await store.syncAndWait(path);
    const compactions = lines(logger, 'compaction completed').length;
    await waitFor('a compaction after the repair', () => lines(logger, 'compaction completed').length > compactions);
    await store.stop();
    expect(store.syncStatus()[0]!.healthy).toBe(true);
    await expectRestoresTo(client, app);
    await app.close();
  }, 60_000);
});
