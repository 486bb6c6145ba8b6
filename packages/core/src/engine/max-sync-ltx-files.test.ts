import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { restore } from '../restore/restore.ts';
import { syncedApp } from '../test-support/synced-app.ts';
import { Replica } from './replica.ts';
import { Store } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-max-sync-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function l0Count(client: FileReplicaClient): Promise<number> {
  let n = 0;
  for await (const _ of client.listLtxFiles(0)) n += 1;
  return n;
}

/** `app.db` with a backlog of staged files: the initial full image, then one file for each of `commits` commits. */
async function stagedBacklog(commits: number) {
  const staged = await syncedApp(dir, 3);
  for (let i = 0; i < commits; i++) {
    await staged.app.insert(1);
    await staged.db.sync();
  }
  return staged;
}

describe('maxSyncLtxFiles', () => {
  it('uploads at most that many staged files per sync, then the rest in later passes, with no snapshot in between', async () => {
    // A backlog of 5 staged files: the initial full image, then one file per commit.
    const { app, db } = await stagedBacklog(4);
    expect(await db.local.list()).toHaveLength(5);
    const client = new FileReplicaClient(join(dir, 'replica'));
    const replica = new Replica(db, client, { maxSyncLtxFiles: 2 });
    await replica.init();

    const passes: Array<{ uploaded: number; backlog: boolean; stored: number }> = [];
    do {
      const uploaded = await replica.sync();
      passes.push({ uploaded, backlog: replica.backlog, stored: await l0Count(client) });
    } while (replica.backlog);
    expect(passes).toEqual([
      { uploaded: 2, backlog: true, stored: 2 },
      { uploaded: 2, backlog: true, stored: 4 },
      { uploaded: 1, backlog: false, stored: 5 },
    ]);
    expect(db.fullImagePending).toBe(false);
    expect(replica.position?.txid).toBe(db.position?.txid);

    const out = join(dir, 'restored.db');
    await restore({ client, outputPath: out });
    const sha = async (p: string) => createHash('sha256').update(await readFile(p)).digest('hex');
    expect(await sha(out)).toBe(await app.hash());
    await db.close();
    await app.close();
  });

  it('in a store, sends the passes one after the other without waiting for the monitor tick', async () => {
    // Staged by an earlier run that never reached its replica: 6 files wait for upload.
    const { path, app, db } = await stagedBacklog(5);
    await db.close();
    const client = new FileReplicaClient(join(dir, 'replica'));
    const store = new Store({ databases: [{ path, replica: client, maxSyncLtxFiles: 1 }], monitorInterval: 5000 });
    await store.start();
    // Well inside one monitor interval: one file per pass, six passes.
    const deadline = Date.now() + 3000;
    while ((await l0Count(client)) < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await l0Count(client)).toBe(6);
    expect(store.syncStatus()[0]).toMatchObject({ inSync: true });
    await app.insert(1);
    await store.syncAndWait(path);
    expect(await l0Count(client)).toBe(7);
    await store.stop();
    await app.close();
  });

  it('is checked: a whole number of 0 or more', () => {
    const client = new FileReplicaClient(join(dir, 'replica'));
    expect(() => new Store({ databases: [{ path: join(dir, 'a.db'), replica: client, maxSyncLtxFiles: -1 }] })).toThrow(UsageError);
    expect(() => new Store({ databases: [{ path: join(dir, 'a.db'), replica: client, maxSyncLtxFiles: 1.5 }] })).toThrow(/maxSyncLtxFiles of .* must be a whole number/);
  });
});
