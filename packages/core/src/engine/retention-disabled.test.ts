import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LtxFileInfo } from '../replica/replica-client.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { Store } from './store.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-retention-off-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function list(client: FileReplicaClient, level: number): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const f of client.listLtxFiles(level)) files.push(f);
  return files;
}

/**
 * Writes a database for a while with every retention window far shorter than the run
 * (snapshots kept 100 ms, L0 files 0 ms after compaction), then waits past them all.
 */
async function replicate(name: string, retention: boolean) {
  const path = join(dir, `${name}.db`);
  const app = new AppProcess(path);
  await app.insert(5);
  const client = new FileReplicaClient(join(dir, `${name}-replica`));
  const store = new Store({
    databases: [{ path, replica: client }],
    monitorInterval: 20,
    levels: [{ level: 1, interval: 100 }],
    snapshotInterval: 200,
    snapshotRetention: 100,
    l0Retention: 0,
    retention,
  });
  await store.start();
  const checkpoints: Array<{ txid: number; sha: string }> = [];
  for (let i = 0; i < 20; i++) {
    await app.insert(2, 200);
    await store.syncAndWait(path);
    checkpoints.push({ txid: store.syncStatus()[0]!.localTXID, sha: await app.hash() });
    await sleep(60);
  }
  // Outlasts the compaction interval, the snapshot interval and both retention windows.
  await sleep(800);
  await store.stop();
  await app.close();
  const levels = { l0: await list(client, 0), l1: await list(client, 1), snapshots: await list(client, 9) };
  return { client, checkpoints, levels };
}

describe('Store with retention disabled', () => {
  it('deletes nothing from the replica, and every transaction stays restorable', async () => {
    const [kept, enforced] = await Promise.all([replicate('kept', false), replicate('enforced', true)]);

    // The same schedule with retention on deletes snapshots and L0 files: the windows were outlasted.
    expect(enforced.levels.snapshots.length).toBe(1);
    expect(enforced.levels.l0[0]!.minTXID).toBeGreaterThan(1);

    // With it off, every snapshot and every level-0 file since TXID 1 is still there.
    expect(kept.levels.snapshots.length).toBeGreaterThan(1);
    const l0 = kept.levels.l0;
    expect(l0[0]!.minTXID).toBe(1);
    for (let i = 1; i < l0.length; i++) expect(l0[i]!.minTXID).toBe(l0[i - 1]!.maxTXID + 1);
    expect(l0[l0.length - 1]!.maxTXID).toBe(kept.checkpoints[kept.checkpoints.length - 1]!.txid);
    expect(kept.levels.l1.length).toBeGreaterThan(1);
    expect(kept.levels.l1[0]!.minTXID).toBe(1);

    const latest = join(dir, 'latest.db');
    await restore({ client: kept.client, outputPath: latest, integrityCheck: 'quick' });
    expect(await sha256(latest)).toBe(kept.checkpoints[kept.checkpoints.length - 1]!.sha);
    for (const point of [kept.checkpoints[0]!, kept.checkpoints[3]!]) {
      const out = join(dir, `at-${point.txid}.db`);
      await restore({ client: kept.client, outputPath: out, txid: point.txid, integrityCheck: 'quick' });
      expect(await sha256(out)).toBe(point.sha);
    }
  }, 30_000);
});
