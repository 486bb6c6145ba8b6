import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, describe, expect, it } from 'vitest';
import { SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { repoRoot } from '../test-support/paths.ts';
import { matchingRecord, rowChainOf, type WorkloadRecord } from '../test-support/workload.ts';
import { Store } from './store.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-replication-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

function integrity(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join(', ');
  } finally {
    db.close();
  }
}

describe('replication under load', () => {
  it('replicates thousands of mixed transactions from another process; every restore point is an exact committed state', async () => {
    const path = join(dir, 'load.db');
    const app = new AppProcess(path);
    await app.insert(1);
    const client = new FileReplicaClient(join(dir, 'load-replica'));
    const store = new Store({
      databases: [{ path, replica: client, db: { minCheckpointPageCount: 500 } }],
      monitorInterval: 15,
      levels: [{ level: 1, interval: 250 }],
      snapshotInterval: 300,
      l0Retention: 120_000,
    });
    await store.start();
    // Watch the replica while the workload runs: remember (TXID, time) pairs to restore to later.
    const marks: Array<{ txid: number; at: Date }> = [];
    let writing = true;
    const watcher = (async () => {
      while (writing) {
        await sleep(150);
        const s = store.syncStatus()[0]!;
        if (s.remoteTXID > 0) marks.push({ txid: s.remoteTXID, at: new Date() });
      }
    })();
    const records: WorkloadRecord[] = await app.workload(3000, { bigTxnAt: 1200, pauseEvery: 20, pauseMs: 10 });
    writing = false;
    await watcher;
    await store.syncAndWait();
    await store.stop();
    await app.close();

    expect(records).toHaveLength(3000);
    const snapshots = [];
    for await (const f of client.listLtxFiles(SNAPSHOT_LEVEL)) snapshots.push(f);
    expect(snapshots.length).toBeGreaterThan(0);

    const latest = join(dir, 'load-latest.db');
    await restore({ client, outputPath: latest, integrityCheck: 'full' });
    expect(integrity(latest)).toBe('ok');
    expect(matchingRecord(records, latest)?.txn).toBe(3000);

    expect(marks.length).toBeGreaterThan(6);
    const picks = [marks[Math.floor(marks.length * 0.2)]!, marks[Math.floor(marks.length * 0.5)]!, marks[Math.floor(marks.length * 0.8)]!];
    for (const [i, mark] of picks.entries()) {
      const byTxid = join(dir, `load-txid-${i}.db`);
      await restore({ client, outputPath: byTxid, txid: mark.txid });
      expect(integrity(byTxid)).toBe('ok');
      const atTxid = matchingRecord(records, byTxid);
      expect(atTxid, `restore to TXID ${mark.txid} is not a committed state`).toBeDefined();

      const byTime = join(dir, `load-time-${i}.db`);
      await restore({ client, outputPath: byTime, timestamp: mark.at });
      expect(integrity(byTime)).toBe('ok');
      const atTime = matchingRecord(records, byTime);
      expect(atTime, `restore to ${mark.at.toISOString()} is not a committed state`).toBeDefined();
      // The state restored for a time holds only transactions begun by then (the commit time the
      // writer could record afterwards may fall after a sync that already shipped it), and at
      // least everything the replica held when the time was recorded.
      expect(atTime!.beganAt).toBeLessThanOrEqual(mark.at.getTime());
      expect(atTime!.txn).toBeGreaterThanOrEqual(atTxid!.txn);
    }
  }, 180_000);
});

describe('crash safety', () => {
  it('survives SIGKILL of the replicating process 20 times during writes; the final restore equals the source', async () => {
    const path = join(dir, 'crash.db');
    const replicaDir = join(dir, 'crash-replica');
    const app = new AppProcess(path);
    await app.insert(1);
    const writing = app.workload(4000, { bigTxnAt: 2000, pauseEvery: 4, pauseMs: 10 });
    let done = false;
    void writing.then(() => {
      done = true;
    });
    let killsDuringWrites = 0;
    const client = new FileReplicaClient(replicaDir);
    const child = join(repoRoot, 'backends/file/src/test-support/replicator-main.ts');
    for (let kill = 0; kill < 20; kill++) {
      const proc = spawn(process.execPath, [child, path, replicaDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const [event] = await Promise.race([once(proc.stdout, 'data').then(() => ['started']), once(proc, 'exit').then(() => ['exited'])]);
      expect(event, 'replicator process died before starting').toBe('started');
      await sleep(50 + Math.floor(Math.random() * 400));
      if (!done) killsDuringWrites += 1;
      proc.kill('SIGKILL');
      await once(proc, 'exit');
      if (kill % 5 === 4) {
        // Whatever a kill interrupted, the replica restores to an exact committed state.
        const mid = join(dir, `crash-mid-${kill}.db`);
        await restore({ client, outputPath: mid });
        expect(integrity(mid)).toBe('ok');
        expect(rowChainOf(mid).maxId).toBeGreaterThan(0);
      }
    }
    const records = await writing;
    expect(killsDuringWrites).toBeGreaterThanOrEqual(15);
    for (const kill of [4, 9, 14, 19]) expect(matchingRecord(records, join(dir, `crash-mid-${kill}.db`)), `restore after kill ${kill + 1}`).toBeDefined();
    // Replication resumes from whatever the kills left behind.
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50 });
    await store.start();
    await store.syncAndWait();
    await store.stop();
    const out = join(dir, 'crash-restored.db');
    await restore({ client, outputPath: out, integrityCheck: 'full' });
    expect(integrity(out)).toBe('ok');
    const state = rowChainOf(out);
    expect(state.maxId).toBe(records[records.length - 1]!.maxId);
    expect(state.hash).toBe(records[records.length - 1]!.hash);
    expect(await app.hash()).toBeTypeOf('string');
    await app.close();
  }, 240_000);
});
