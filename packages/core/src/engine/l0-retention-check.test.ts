import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListLtxOptions, LtxFileInfo } from '../replica/replica-client.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { Store } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-l0-check-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real file backend, counting listings (every maintenance pass starts with some). */
class CountingFileClient extends FileReplicaClient {
  listings = 0;
  protected override _listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    this.listings += 1;
    return super._listLtxFiles(level, options);
  }
}

async function l0Files(client: FileReplicaClient): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const f of client.listLtxFiles(0)) files.push(f);
  return files;
}

/**
 * A few commits, then the database goes idle. Level 1 compacts them within 50 ms, when they
 * are still younger than l0-retention (300 ms); snapshots and any higher level are hours away.
 */
async function commitThenIdle(name: string, l0RetentionCheckInterval: number | undefined) {
  const path = join(dir, `${name}.db`);
  const app = new AppProcess(path);
  await app.insert(3);
  const client = new CountingFileClient(join(dir, `${name}-replica`));
  const store = new Store({
    databases: [{ path, replica: client }],
    monitorInterval: 20,
    levels: [{ level: 1, interval: 50 }],
    snapshotInterval: 3_600_000,
    l0Retention: 300,
    ...(l0RetentionCheckInterval !== undefined ? { l0RetentionCheckInterval } : {}),
  });
  await store.start();
  for (let i = 0; i < 4; i++) {
    await app.insert(1);
    await store.syncAndWait(path);
  }
  const txid = store.syncStatus()[0]!.localTXID;
  // Outlasts l0-retention and several check intervals.
  await sleep(1200);
  const afterIdle = { files: await l0Files(client), listings: client.listings };
  await sleep(600);
  const listingsLater = client.listings;
  await store.stop();
  await app.close();
  return { txid, afterIdle, listingsLater };
}

describe('l0RetentionCheckInterval', () => {
  it('releases compacted L0 files once they age out although no commit follows, then goes quiet', async () => {
    const [checked, unchecked] = await Promise.all([commitThenIdle('checked', 100), commitThenIdle('unchecked', undefined)]);

    // Without the check, level 0 waits for a compaction that an idle database never runs.
    expect(unchecked.afterIdle.files.length).toBeGreaterThan(1);

    // With it, only the newest L0 file (which marks where replication stands) is left.
    expect(checked.afterIdle.files.map((f) => f.maxTXID)).toEqual([checked.txid]);
    // Nothing is left to age out: no more storage requests while idle.
    expect(checked.listingsLater).toBe(checked.afterIdle.listings);
  }, 20_000);

  it('is checked like the other intervals', () => {
    const client = new FileReplicaClient(join(dir, 'replica'));
    expect(() => new Store({ databases: [], l0RetentionCheckInterval: -1 })).toThrow(/l0RetentionCheckInterval must be a non-negative number/);
    expect(() => new Store({ databases: [{ path: join(dir, 'a.db'), replica: client }], l0RetentionCheckInterval: 0 })).not.toThrow();
  });
});
