import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildDatabaseHistory, type DatabaseHistory } from '../compaction/test-support/database-history.ts';
import { range, writeLevelZero } from '../compaction/test-support/ltx-fixtures.ts';
import { CorruptReplicaFileError, verifyReplicaFile } from '../replica/corrupt-replica-file.ts';
import type { LtxFileRef } from '../replica/replica-client.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { noMetrics } from './metrics.ts';
import { readReplicaHealth } from './replica-health.ts';
import { ReplicaRepair } from './replica-repair.ts';

// The repair's bookkeeping on a real file replica with a clock of our own: what is logged,
// when a full image is asked for, what is deleted.

let work: string;
let history: DatabaseHistory;
let cases = 0;
let client: FileReplicaClient;
let meta: string;
let logger: RecordingLogger;
let clock: number;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'replica-repair-'));
  history = await buildDatabaseHistory(work, 8);
});
afterAll(() => rm(work, { recursive: true, force: true }));
beforeEach(async () => {
  const caseDir = join(work, `case-${++cases}`);
  client = new FileReplicaClient(join(caseDir, 'replica'));
  meta = join(caseDir, 'meta');
  await writeLevelZero(client, history, range(1, 8));
  logger = new RecordingLogger();
  clock = 1_000_000;
});

const ref = (txid: number): LtxFileRef => ({ level: 0, minTXID: txid, maxTXID: txid });
const SECOND = 1000;

function repair(): ReplicaRepair {
  return new ReplicaRepair({ client, metaPath: meta, db: '/app.db', replicaName: 'file', logger, metrics: noMetrics, backoff: { initial: 60 * SECOND, max: 240 * SECOND }, now: () => clock });
}

/** Damages a stored file and returns the error its reader would report. */
async function damaged(txid: number): Promise<CorruptReplicaFileError> {
  const path = client.ltxPath(ref(txid));
  const bytes = await readFile(path);
  bytes[bytes.byteLength >> 1]! ^= 0x5a;
  await writeFile(path, bytes);
  const err = await verifyReplicaFile(client, ref(txid)).catch((e: unknown) => e);
  if (!(err instanceof CorruptReplicaFileError)) throw new Error(`file ${txid} still verifies`);
  return err;
}

const corruptLines = () => logger.records.filter((r) => r.message === 'replica file corrupt').map((r) => [r.level, r.fields.minTXID, r.fields.recurring ?? false]);

describe('ReplicaRepair', () => {
  it('records a confirmed file once, asks for one full image, is healthy once it is uploaded, then deletes the file', async () => {
    const r = repair();
    await r.load();
    const err = await damaged(3);
    expect(await r.report(err, 'compaction')).toBe(true);
    expect(await r.report(err, 'snapshot')).toBe(true); // found again: nothing new
    expect(corruptLines()).toEqual([['error', '0000000000000003', false]]);
    // The reason, without the file name the line carries already.
    expect(logger.records.find((l) => l.message === 'replica file corrupt')?.fields.error).toMatch(/^[a-z-]+ (checksum mismatch|LTX)/);
    expect(r.healthy).toBe(false);
    expect((await readReplicaHealth(meta))?.healthy).toBe(false);
    expect(r.takeRequest()).toBe(`replica file ${client.ltxPath(ref(3))} is corrupt`);
    expect(r.takeRequest()).toBeUndefined(); // one image on its way is enough
    await r.imageUploaded(9);
    expect(r.healthy).toBe(true);
    expect(await readReplicaHealth(meta)).toMatchObject({ healthy: true, repairTXID: 9 });
    await r.cleanup();
    await expect(client.openLtxFile(ref(3))).rejects.toThrow(/not found/);
    expect(await readReplicaHealth(meta)).toBeUndefined();
    expect(r.corruptFiles).toEqual([]);
  });

  it('ignores damage a second read does not confirm (the file verifies now)', async () => {
    const r = repair();
    const err = await damaged(4);
    // The good file is back, as if the first read had been cut short.
    await writeLevelZero(client, history, [4]);
    expect(await r.report(err, 'validation')).toBe(false);
    expect(corruptLines()).toEqual([]);
    expect(r.healthy).toBe(true);
  });

  it('while corruption recurs, repairs wait 1, 2, 4… times the initial backoff and the streak logs one more line', async () => {
    const r = repair();
    await r.report(await damaged(2), 'compaction');
    expect(r.takeRequest()).toBeDefined();
    // Images numbered below the files found next, so those are not superseded by them.
    await r.imageUploaded(2); // repair 1 at t=0
    clock += 10 * SECOND;
    await r.report(await damaged(3), 'compaction');
    expect(corruptLines()).toEqual([
      ['error', '0000000000000002', false],
      ['error', '0000000000000003', true],
    ]);
    expect(r.takeRequest()).toBeUndefined();
    clock += 49 * SECOND;
    expect(r.takeRequest()).toBeUndefined();
    clock += 1 * SECOND; // 60 s after repair 1
    expect(r.takeRequest()).toBeDefined();
    await r.imageUploaded(3); // repair 2
    clock += 10 * SECOND;
    await r.report(await damaged(4), 'compaction');
    expect(corruptLines().at(-1)).toEqual(['debug', '0000000000000004', true]);
    clock += 100 * SECOND;
    expect(r.takeRequest()).toBeUndefined();
    clock += 10 * SECOND; // 120 s after repair 2
    expect(r.takeRequest()).toBeDefined();
  });

  it('a corruption long after the last repair starts a new streak: repaired at once, logged again', async () => {
    const r = repair();
    await r.report(await damaged(2), 'compaction');
    r.takeRequest();
    await r.imageUploaded(2);
    clock += 121 * SECOND; // past twice the backoff
    await r.report(await damaged(3), 'validation');
    expect(corruptLines().map(([level, , recurring]) => [level, recurring])).toEqual([
      ['error', false],
      ['error', false],
    ]);
    expect(r.takeRequest()).toBeDefined();
  });

  it('a file an earlier full image already supersedes needs no new image, only deleting', async () => {
    const r = repair();
    await r.imageUploaded(9);
    await r.report(await damaged(5), 'compaction');
    expect(logger.records.find((l) => l.message === 'replica file corrupt')).toMatchObject({ level: 'warn', fields: { supersededBy: '0000000000000009' } });
    expect(r.healthy).toBe(true);
    expect(r.takeRequest()).toBeUndefined();
    await r.cleanup();
    await expect(client.openLtxFile(ref(5))).rejects.toThrow(/not found/);
  });

  it('a repair recorded by an earlier run is asked for again after a restart', async () => {
    const first = repair();
    await first.report(await damaged(6), 'snapshot');
    const second = repair();
    await second.load();
    expect(second.healthy).toBe(false);
    expect(second.corruptFiles.map((f) => [f.file, f.detectedBy])).toEqual([[client.ltxPath(ref(6)), 'snapshot']]);
    expect(second.takeRequest()).toBe(`replica file ${client.ltxPath(ref(6))} is corrupt`);
  });
});
