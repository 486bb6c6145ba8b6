import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LtxFileInfo } from '../replica/replica-client.ts';
import { restore } from '../restore/restore.ts';
import { parseWalHeader } from '../sqlite/wal.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { Store, type StoreOptions } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-steady-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Restores the replica (with SQLite's quick check) and checks it equals the application's database. */
async function expectReplicaHolds(client: FileReplicaClient, app: AppProcess): Promise<void> {
  const out = join(dir, 'out.db');
  await restore({ client, outputPath: out, integrityCheck: 'quick' });
  expect(await sha256(out)).toBe(await app.hash());
}

async function listLevel(client: FileReplicaClient, level: number): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const f of client.listLtxFiles(level)) files.push(f);
  return files;
}

/** The WAL's salts right now ("" when there is no valid header): they change at every WAL restart. */
function walSalts(path: string): string {
  let fd: number;
  try {
    fd = openSync(`${path}-wal`, 'r');
  } catch {
    return '';
  }
  try {
    const b = Buffer.alloc(32);
    const header = parseWalHeader(b.subarray(0, readSync(fd, b, 0, 32, 0)));
    return header ? `${header.salt1}:${header.salt2}` : '';
  } finally {
    closeSync(fd);
  }
}

/** Samples the WAL's salts every 50 ms until stopped; returns every distinct generation seen. */
function watchWalGenerations(path: string): { stop(): Promise<Set<string>> } {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const salts = walSalts(path);
      if (salts) seen.add(salts);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** A store over one database with a file replica, recording its log. */
function replicate(path: string, options: Partial<StoreOptions> & { db?: Record<string, number> } = {}) {
  const client = new FileReplicaClient(join(dir, 'replica'));
  const logger = new RecordingLogger();
  const { db, ...rest } = options;
  const store = new Store({ databases: [{ path, replica: client, ...(db ? { db } : {}) }], logger, ...rest });
  return { client, logger, store };
}

/** Full images written after the initial snapshot: the reasons logged, and the files in the replica. */
async function fullImages(client: FileReplicaClient, logger: RecordingLogger): Promise<{ reasons: string[]; files: string[] }> {
  const files = (await listLevel(client, 0)).filter((f) => f.minTXID === 1 && f.maxTXID > 1).map((f) => `${f.minTXID}-${f.maxTXID}`);
  const reasons = logger.records.filter((r) => r.message === 'writing a full database image').map((r) => String(r.fields.reason));
  return { reasons, files };
}

describe('steady state', () => {
  it('a steady writer for 20 s causes no full image, while checkpoints keep restarting the WAL', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(2000, 200);
    // Small thresholds so our own checkpoints happen often: every one of them must keep the chain.
    const { client, logger, store } = replicate(path, { monitorInterval: 100, db: { minCheckpointPageCount: 200, checkpointInterval: 1000 } });
    await store.start();
    await store.syncAndWait(path);
    const generations = watchWalGenerations(path);
    const txns = await app.steady(100, 20_000);
    const seen = await generations.stop();
    await store.syncAndWait(path);
    await store.stop();

    // Not once did a checkpoint cost a full image ...
    expect(await fullImages(client, logger)).toEqual({ reasons: [], files: [] });
    expect(logger.at('warn')).toEqual([]);
    expect(txns).toBeGreaterThan(1500);
    const checkpoints = logger.records.filter((r) => r.message === 'checkpoint completed' && r.fields.complete === true);
    expect(checkpoints.length).toBeGreaterThan(5);
    // ... though our checkpoints completed and the WAL was restarted again and again.
    expect(seen.size).toBeGreaterThan(5);
    await expectReplicaHolds(client, app);
    await app.close();
  }, 60_000);

  it("the application's own auto-checkpoints and another process's PASSIVE checkpoints cause no full image", async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(500, 200);
    // The application checkpoints every 20 pages on its own, and a second process checkpoints
    // every 100 ms: both can only backfill what our read lock allows, never restart the WAL under us.
    await app.request({ op: 'pragma', sql: 'wal_autocheckpoint = 20' });
    const other = new AppProcess(path);
    const { client, logger, store } = replicate(path, { monitorInterval: 100, db: { minCheckpointPageCount: 300, checkpointInterval: 1000 } });
    await store.start();
    await store.syncAndWait(path);
    let running = true;
    let passives = 0;
    const checkpointer = (async () => {
      while (running) {
        await other.request({ op: 'pragma', sql: 'wal_checkpoint(PASSIVE)' });
        passives += 1;
        await sleep(100);
      }
    })();
    await app.steady(100, 6000);
    running = false;
    await checkpointer;
    await store.syncAndWait(path);
    await store.stop();

    expect(passives).toBeGreaterThan(20);
    expect(await fullImages(client, logger)).toEqual({ reasons: [], files: [] });
    await expectReplicaHolds(client, app);
    await other.close();
    await app.close();
  }, 60_000);

  it('an idle database stays idle for 10 checkpoint intervals: no checkpoint, no TXID, no file, no request, no log line', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(300, 200);
    const interval = 300;
    const { client, logger, store } = replicate(path, {
      monitorInterval: 20,
      // Maintenance is due all the time too: only the absence of new files keeps it quiet.
      levels: [{ level: 1, interval: 100 }],
      snapshotInterval: 200,
      db: { checkpointInterval: interval },
    });
    let requests = 0;
    client.observe(() => void (requests += 1));
    await store.start();
    // The initial snapshot first, so the insert below is staged as an incremental file whatever the loop's timing.
    await store.syncAndWait(path);
    await app.insert(20, 200);
    await store.syncAndWait(path);
    // Let the last write's checkpoint, compaction and snapshot happen, then watch.
    await sleep(interval * 2);
    const walBefore = walSalts(path);
    expect(walBefore).not.toBe(''); // the WAL holds frames the whole time
    const txid = store.syncStatus()[0]!.localTXID;
    const staged = await readdir(join(dir, '.app.db-litestream', 'ltx', '0'));
    const lines = logger.records.length;
    const requestsBefore = requests;

    await sleep(interval * 10);

    expect(logger.records.slice(lines)).toEqual([]);
    expect(requests).toBe(requestsBefore);
    expect(store.syncStatus()[0]!.localTXID).toBe(txid);
    expect(await readdir(join(dir, '.app.db-litestream', 'ltx', '0'))).toEqual(staged);
    expect(walSalts(path)).toBe(walBefore);
    await store.stop();
    await app.close();
  }, 30_000);
});
