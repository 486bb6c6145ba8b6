import { mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListLtxOptions, LtxFileInfo, LtxFileRef, WriteLtxOptions, WriteLtxResult } from '../replica/replica-client.ts';
import type { StorageCallContext } from '../replica/storage-call.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { DB } from './db.ts';
import { Store } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Restores the replica's latest state into a fresh file and checks it has the expected hash. */
async function expectReplicaHolds(client: FileReplicaClient, sha: string): Promise<void> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  await restore({ client, outputPath: out });
  expect(await sha256(out)).toBe(sha);
}

/** The real file backend, counting every storage request it serves. */
class CountingFileClient extends FileReplicaClient {
  requests = 0;
  protected override _listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    this.requests += 1;
    return super._listLtxFiles(level, options);
  }
  protected override _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
    this.requests += 1;
    return super._writeLtxFile(ref, data, options);
  }
  protected override _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }) {
    this.requests += 1;
    return super._openLtxFile(ref, range);
  }
  protected override _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    this.requests += 1;
    return super._deleteLtxFiles(refs, call);
  }
}

describe('Store', () => {
  it('replicates a database written by another process, compacts, snapshots, and restores to the latest state and to earlier TXIDs', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    const client = new FileReplicaClient(join(dir, 'replica'));
    const store = new Store({
      databases: [{ path, replica: client }],
      monitorInterval: 50,
      levels: [
        { level: 1, interval: 200 },
        { level: 2, interval: 600 },
      ],
      snapshotInterval: 900,
      // L0 files stay, so every transaction remains a restore point.
      l0Retention: 60_000,
    });
    await store.start();
    const checkpoints: Array<{ txid: number; sha: string }> = [];
    for (let i = 0; i < 25; i++) {
      await app.insert(1 + (i % 7), i % 5 === 0 ? 6000 : 80);
      await store.syncAndWait(path);
      checkpoints.push({ txid: store.syncStatus()[0]!.localTXID, sha: await app.hash() });
      await sleep(60);
    }
    await sleep(1200); // let compaction, snapshot and retention run
    await store.stop();
    await app.close();

    const levels = await Promise.all([0, 1, 2, 9].map(async (level) => {
      const files = [];
      for await (const f of client.listLtxFiles(level)) files.push(f);
      return files.length;
    }));
    expect(levels[1]).toBeGreaterThan(0); // L1 compactions happened
    expect(levels[3]).toBeGreaterThan(0); // a level-9 snapshot exists

    const latest = join(dir, 'latest.db');
    await restore({ client, outputPath: latest, integrityCheck: 'full' });
    expect(await sha256(latest)).toBe(checkpoints[checkpoints.length - 1]!.sha);
    for (const point of [checkpoints[3]!, checkpoints[12]!, checkpoints[20]!]) {
      const out = join(dir, `at-${point.txid}.db`);
      await restore({ client, outputPath: out, txid: point.txid, integrityCheck: 'quick' });
      expect(await sha256(out)).toBe(point.sha);
    }
  }, 60_000);

  it('makes no storage requests and no files while the database is idle', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    const client = new CountingFileClient(join(dir, 'replica'));
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 20, levels: [{ level: 1, interval: 50 }], snapshotInterval: 100 });
    await store.start();
    await store.syncAndWait(path);
    await sleep(500); // first compaction and snapshot
    const before = client.requests;
    const status = store.syncStatus()[0]!;
    await sleep(1000);
    expect(client.requests).toBe(before);
    expect(store.syncStatus()[0]!.localTXID).toBe(status.localTXID);
    await store.stop();
    await app.close();
  });

  it('ships commits made just before stop() in its final sync', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(1);
    const client = new FileReplicaClient(join(dir, 'replica'));
    // The loop would not tick again for a minute: only stop() can ship the next commit.
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 60_000 });
    await store.start();
    await app.insert(123);
    const sha = await app.hash();
    await store.stop();
    await expectReplicaHolds(client, sha);
    await app.close();
  });

  it('with watchWal, ships each commit as the WAL changes, without waiting for the monitor tick', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(5);
    const client = new FileReplicaClient(join(dir, 'replica'));
    // The tick would not come for a minute: only the watcher can ship these commits in time.
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 60_000, watchWal: true });
    await store.start();
    await store.syncAndWait(path);
    for (let i = 0; i < 5; i++) {
      const before = store.syncStatus()[0]!.remoteTXID;
      await app.insert(1 + i);
      for (let wait = 0; wait < 100 && store.syncStatus()[0]!.remoteTXID === before; wait++) await sleep(20);
      expect(store.syncStatus()[0]!.remoteTXID).toBe(before + 1);
    }
    const sha = await app.hash();
    await store.stop();
    await expectReplicaHolds(client, sha);
    await app.close();
  });

  it('never uploads a staged file that is damaged: it is removed and a full image takes its place', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    // Stage a snapshot and two incrementals without a replica, as a replicator that crashed would leave them.
    const staging = new DB(path);
    await staging.sync();
    await app.insert(5);
    await staging.sync();
    await app.insert(5);
    await staging.sync();
    await staging.close();
    const damaged = staging.local.pathOf(2, 2);
    const bytes = await readFile(damaged);
    bytes[bytes.byteLength >> 1]! ^= 0xff;
    await writeFile(damaged, bytes);

    const client = new FileReplicaClient(join(dir, 'replica'));
    const logger = new RecordingLogger();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 60_000, logger });
    await store.start();
    await store.syncAndWait(path);
    await store.stop();
    const names: string[] = [];
    for await (const f of client.listLtxFiles(0)) names.push(`${f.minTXID}-${f.maxTXID}`);
    expect(names).toEqual(['1-1', '1-4']);
    expect(logger.records.filter((r) => r.message === 'damaged staged file removed').map((r) => r.fields.file)).toEqual([damaged]);
    await expectReplicaHolds(client, await app.hash());
    await app.close();
  });

  it('runs maintenance beside the sync loop: commits reach the replica while a slow compaction is under way', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(5);
    let compacting = 0;
    class SlowCompactionClient extends FileReplicaClient {
      protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
        if (ref.level > 0) {
          compacting += 1;
          await sleep(3000);
        }
        return super._writeLtxFile(ref, data, options);
      }
    }
    const client = new SlowCompactionClient(join(dir, 'replica'));
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, levels: [{ level: 1, interval: 100 }] });
    await store.start();
    await store.syncAndWait(path);
    await app.insert(1);
    for (let wait = 0; wait < 100 && compacting === 0; wait++) await sleep(20);
    expect(compacting).toBe(1);
    // The compaction holds its upload for 3 s; the loop must go on shipping commits meanwhile.
    for (let i = 0; i < 3; i++) {
      const before = store.syncStatus()[0]!.remoteTXID;
      await app.insert(1);
      for (let wait = 0; wait < 25 && store.syncStatus()[0]!.remoteTXID === before; wait++) await sleep(20);
      expect(store.syncStatus()[0]!.remoteTXID).toBe(before + 1);
    }
    const sha = await app.hash();
    await store.stop();
    await expectReplicaHolds(client, sha);
    await app.close();
  });

  it('continues after the replica when the local meta directory was deleted', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(20);
    const client = new FileReplicaClient(join(dir, 'replica'));
    let store = new Store({ databases: [{ path, replica: client }], monitorInterval: 60_000 });
    await store.start();
    await app.insert(20);
    await store.syncAndWait();
    const remote = store.syncStatus()[0]!.remoteTXID;
    await store.stop();
    await rm(join(dir, '.app.db-litestream'), { recursive: true });
    await app.insert(5);
    store = new Store({ databases: [{ path, replica: client }], monitorInterval: 60_000 });
    await store.start();
    await store.syncAndWait();
    expect(store.syncStatus()[0]!.remoteTXID).toBe(remote + 1);
    await store.stop();
    await expectReplicaHolds(client, await app.hash());
    await app.close();
  });

  it('retries a failing replica with backoff, logs one error per streak, and catches up', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    class FlakyClient extends FileReplicaClient {
      failuresLeft = 3;
      protected override _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
        if (this.failuresLeft > 0) {
          this.failuresLeft -= 1;
          return Promise.reject(new Error('simulated outage'));
        }
        return super._writeLtxFile(ref, data, options);
      }
    }
    const client = new FlakyClient(join(dir, 'replica'));
    const logger = new RecordingLogger();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 10, syncInterval: 20, logger });
    await store.start();
    for (let i = 0; i < 100 && (client.failuresLeft > 0 || !store.syncStatus()[0]!.inSync); i++) await sleep(50);
    expect(client.failuresLeft).toBe(0);
    const errors = logger.records.filter((r) => r.message === 'sync error');
    expect(errors).toHaveLength(1);
    expect(String(errors[0]!.fields.error)).toMatch(/upload of 0000000000000001-0000000000000001\.ltx failed: simulated outage/);
    expect(logger.records.filter((r) => r.message === 'sync resumed')).toHaveLength(1);
    await app.insert(5);
    await store.syncAndWait();
    await store.stop();
    await expectReplicaHolds(client, await app.hash());
    await app.close();
  });
});

describe('Store.add and Store.remove', () => {
  it('adds a database to a running store and replicates it; removes one, releasing it, after a final sync', async () => {
    const first = join(dir, 'first.db');
    const second = join(dir, 'second.db');
    const appA = new AppProcess(first);
    const appB = new AppProcess(second);
    await appA.insert(5);
    await appB.insert(5);
    const clientA = new FileReplicaClient(join(dir, 'replica-a'));
    const clientB = new FileReplicaClient(join(dir, 'replica-b'));
    const store = new Store({ databases: [{ path: first, replica: clientA }], monitorInterval: 50 });
    await store.start();
    await expect(store.add({ path: first, replica: clientB })).rejects.toThrow(/already in this store/);

    await store.add({ path: second, replica: clientB });
    expect(store.paths()).toEqual([first, second]);
    await appB.insert(3);
    await store.syncAndWait(second);
    await expectReplicaHolds(clientB, await appB.hash());

    // Commits made just before remove() reach the replica in its final sync.
    await appB.insert(4);
    await store.remove(second);
    expect(store.paths()).toEqual([first]);
    await expectReplicaHolds(clientB, await appB.hash());
    await expect(store.syncAndWait(second)).rejects.toThrow(/not in this store/);
    await expect(store.remove(second)).rejects.toThrow(/not in this store/);

    // Released: a second store can take the database (its replication lock is free) and add it back works too.
    const other = new Store({ databases: [{ path: second, replica: clientB }], monitorInterval: 50 });
    await other.start();
    await other.stop();
    await store.add({ path: second, replica: clientB });
    await appB.insert(2);
    await store.syncAndWait(second);
    await expectReplicaHolds(clientB, await appB.hash());

    await appA.insert(2);
    await store.syncAndWait(first);
    await expectReplicaHolds(clientA, await appA.hash());
    await store.stop();
    await appA.close();
    await appB.close();
  }, 30_000);

  it('reports when each database last synced, and remove() resolves with its status after the final sync', async () => {
    const path = join(dir, 'timed.db');
    const app = new AppProcess(path);
    await app.insert(5);
    const client = new FileReplicaClient(join(dir, 'replica-timed'));
    const before = Date.now();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50 });
    await store.start();
    // Reading the replica's position at start counts: the replica held what it was given.
    const atStart = store.syncStatus()[0]!.lastSyncAt;
    expect(atStart?.getTime()).toBeGreaterThanOrEqual(before);
    await sleep(20);
    await app.insert(3);
    await store.syncAndWait(path);
    const afterSync = store.syncStatus()[0]!.lastSyncAt;
    expect(afterSync!.getTime()).toBeGreaterThan(atStart!.getTime());
    await app.insert(2);
    const status = await store.remove(path);
    expect(status).toMatchObject({ path, inSync: true });
    expect(status.remoteTXID).toBe(status.localTXID);
    expect(status.lastSyncAt!.getTime()).toBeGreaterThanOrEqual(afterSync!.getTime());
    await expectReplicaHolds(client, await app.hash());
    await store.stop();
    await app.close();
  }, 30_000);

  it('does not add a database that cannot start, and the store goes on', async () => {
    const first = join(dir, 'first.db');
    const app = new AppProcess(first);
    await app.insert(5);
    const client = new FileReplicaClient(join(dir, 'replica'));
    const store = new Store({ databases: [{ path: first, replica: client }], monitorInterval: 50 });
    await store.start();
    // A second replicator holds this one.
    const second = join(dir, 'held.db');
    const held = new AppProcess(second);
    await held.insert(1);
    const holder = new Store({ databases: [{ path: second, replica: new FileReplicaClient(join(dir, 'replica-held')) }], monitorInterval: 50 });
    await holder.start();
    await expect(store.add({ path: second, replica: new FileReplicaClient(join(dir, 'replica-2')) })).rejects.toThrow();
    expect(store.paths()).toEqual([first]);
    await app.insert(1);
    await store.syncAndWait(first);
    await expectReplicaHolds(client, await app.hash());
    await holder.stop();
    await store.stop();
    await app.close();
    await held.close();
  }, 30_000);

  it('adds before start: the database starts with the store', async () => {
    const path = join(dir, 'later.db');
    const app = new AppProcess(path);
    await app.insert(3);
    const client = new FileReplicaClient(join(dir, 'replica'));
    const store = new Store({ databases: [], monitorInterval: 50 });
    await store.add({ path, replica: client });
    await store.start();
    await store.syncAndWait(path);
    await expectReplicaHolds(client, await app.hash());
    await store.stop();
    await app.close();
  }, 30_000);
});
