import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { compactLtx } from '../ltx/compactor.ts';
import { NotFoundError, UsageError } from '../ltx/errors.ts';
import { formatLtxFilename } from '../ltx/txid.ts';
import { MemorySink } from '../test-support/streams.ts';
import { NoBackupsError, RestoreTargetError, TxidGapError } from './restore-errors.ts';
import { ltxFileLabel, planRestore, type RestorePlan } from './restore-plan.ts';
import { buildReplicaFixture, copyReplica, ref } from './test-support/replica-fixture.ts';

const scratch = await mkdtemp(join(tmpdir(), 'restore-plan-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const fixture = await buildReplicaFixture(join(scratch, 'fixture'));
const client = new FileReplicaClient(fixture.root);
let copies = 0;
const copy = () => copyReplica(fixture, join(scratch, `copy-${++copies}`));

const L = (level: number, min: number, max: number) => `${level}/${formatLtxFilename(min, max)}`;
const names = (plan: RestorePlan) => plan.files.map(ltxFileLabel);
const remove = (c: FileReplicaClient, ...refs: Array<[number, number, number]>) => c.deleteLtxFiles(refs.map(([l, a, b]) => ref(l, a, b)));

async function planError(c: FileReplicaClient, target: Parameters<typeof planRestore>[1]): Promise<Error> {
  return planRestore(c, target).then(
    (plan) => new Error(`planned ${names(plan).join(' ')} instead of failing`),
    (error: unknown) => error as Error,
  );
}

describe('planRestore on a replica with L0 incrementals, an L1 compaction and an L9 snapshot', () => {
  it('latest: the snapshot, then the L1 file overlapping its position, then the last L0 file', async () => {
    const plan = await planRestore(client);
    expect(names(plan)).toEqual([L(9, 1, 3), L(1, 2, 5), L(0, 6, 6)]);
    expect(plan.txid).toBe(6);
    expect(plan.timestamp).toEqual(fixture.timeOf(6));
    const sizes = await Promise.all(plan.files.map(async (f) => (await readFile(join(fixture.root, 'ltx', String(f.level), formatLtxFilename(f.minTXID, f.maxTXID)))).byteLength));
    expect(plan.size).toBe(sizes.reduce((a, b) => a + b, 0));
  });

  const byTxid: Array<[number, string[]]> = [
    [1, [L(0, 1, 1)]],
    [2, [L(0, 1, 1), L(0, 2, 2)]],
    [3, [L(9, 1, 3)]],
    [4, [L(9, 1, 3), L(0, 4, 4)]],
    [5, [L(9, 1, 3), L(1, 2, 5)]],
    [6, [L(9, 1, 3), L(1, 2, 5), L(0, 6, 6)]],
  ];
  for (const [txid, files] of byTxid) {
    it(`TXID ${txid}: ${files.join(' + ')}`, async () => {
      const plan = await planRestore(client, { txid });
      expect(names(plan)).toEqual(files);
      expect(plan.txid).toBe(txid);
    });
  }

  it('by timestamp: the last state made at or before the time', async () => {
    const at = async (time: Date) => {
      const plan = await planRestore(client, { timestamp: time });
      return [plan.txid, names(plan)];
    };
    expect(await at(fixture.timeOf(1))).toEqual([1, [L(0, 1, 1)]]);
    expect(await at(new Date(fixture.timeOf(2).getTime() + 500))).toEqual([2, [L(0, 1, 1), L(0, 2, 2)]]);
    expect(await at(fixture.timeOf(3))).toEqual([3, [L(9, 1, 3)]]);
    expect(await at(new Date(fixture.timeOf(5).getTime() - 1))).toEqual([4, [L(9, 1, 3), L(0, 4, 4)]]);
    expect(await at(fixture.timeOf(5))).toEqual([5, [L(9, 1, 3), L(1, 2, 5)]]);
    expect(await at(new Date(Date.UTC(2030, 0, 1)))).toEqual([6, [L(9, 1, 3), L(1, 2, 5), L(0, 6, 6)]]);
  });

  it('a time before the first backup fails naming the earliest restorable time', async () => {
    const err = await planError(client, { timestamp: new Date(fixture.timeOf(1).getTime() - 1) });
    expect(err).toBeInstanceOf(RestoreTargetError);
    expect(err.message).toBe(
      `not found: a backup at or before ${new Date(fixture.timeOf(1).getTime() - 1).toISOString()}: the earliest restorable time is ${fixture.timeOf(1).toISOString()} (0/0000000000000001-0000000000000001.ltx); choose a later time`,
    );
    expect((err as RestoreTargetError).earliest).toEqual(fixture.timeOf(1));
  });

  it('a TXID past the latest fails naming the latest', async () => {
    const err = await planError(client, { txid: 7 });
    expect(err).toBeInstanceOf(RestoreTargetError);
    expect(err.message).toBe('not found: TXID 0000000000000007: the replica\'s latest TXID is 0000000000000006 (0/0000000000000006-0000000000000006.ltx)');
    expect((err as RestoreTargetError).latestTXID).toBe(6);
  });

  it('refuses a TXID and a timestamp together, and invalid targets', async () => {
    await expect(planRestore(client, { txid: 2, timestamp: new Date() })).rejects.toThrow(UsageError);
    await expect(planRestore(client, { txid: 0 })).rejects.toThrow(/positive integer, got 0/);
    await expect(planRestore(client, { txid: 1.5 })).rejects.toThrow(UsageError);
    await expect(planRestore(client, { timestamp: new Date(Number.NaN) })).rejects.toThrow(/valid Date/);
  });
});

describe('planRestore on damaged or unusual replicas', () => {
  it('a gap fails naming the missing TXID, what was reached and the next file, for latest, a TXID and a time', async () => {
    const c = await copy();
    await remove(c, [0, 4, 4], [1, 2, 5]);
    const message =
      'no LTX file covers TXID 0000000000000004 (reached 0000000000000003 from 9/0000000000000001-0000000000000003.ltx); the next file, 0/0000000000000005-0000000000000005.ltx, starts at 0000000000000005: restore TXID 0000000000000003 or earlier, or let the replicator write a new snapshot';
    for (const target of [{}, { txid: 6 }, { txid: 5 }, { timestamp: fixture.timeOf(6) }]) {
      const err = await planError(c, target);
      expect(err, JSON.stringify(target)).toBeInstanceOf(TxidGapError);
      expect(err.message).toBe(message);
      expect(err).toMatchObject({ reachedTXID: 3, missingMinTXID: 4, missingMaxTXID: 4, nextFile: L(0, 5, 5) });
    }
    // Before the gap everything still restores.
    expect(names(await planRestore(c, { txid: 3 }))).toEqual([L(9, 1, 3)]);
    expect(names(await planRestore(c, { timestamp: new Date(fixture.timeOf(4).getTime() - 1) }))).toEqual([L(9, 1, 3)]);
  });

  it('a gap of several TXIDs is named as a range', async () => {
    const c = await copy();
    await remove(c, [0, 4, 4], [0, 5, 5], [1, 2, 5]);
    const err = await planError(c, {});
    expect(err).toBeInstanceOf(TxidGapError);
    expect(err.message).toMatch(/^no LTX file covers TXIDs 0000000000000004\.\.0000000000000005 \(reached 0000000000000003 from 9\/0000000000000001-0000000000000003\.ltx\); the next file, 0\/0000000000000006-0000000000000006\.ltx, starts at 0000000000000006/);
  });

  it('a replica with no file starting at TXID 1 has no snapshot to start from', async () => {
    const c = await copy();
    await remove(c, [0, 1, 1], [9, 1, 3]);
    const err = await planError(c, {});
    expect(err).toBeInstanceOf(TxidGapError);
    expect(err.message).toMatch(
      /^no LTX file covers TXID 0000000000000001 \(reached 0000000000000000 from no snapshot \(no file starts at TXID 1\)\); the next file, 0\/0000000000000002-0000000000000002\.ltx, starts at 0000000000000002: the replica has no snapshot/,
    );
  });

  it('TXIDs whose L0 files were compacted away cannot be restored exactly; the error names the nearest ones', async () => {
    const c = await copy();
    await remove(c, [0, 2, 2], [0, 3, 3], [0, 4, 4], [0, 5, 5], [9, 1, 3]);
    const err = await planError(c, { txid: 3 });
    expect(err).toBeInstanceOf(RestoreTargetError);
    expect(err.message).toBe(
      'not found: TXID 0000000000000003: no file ends there: 1/0000000000000002-0000000000000005.ltx covers it but runs to 0000000000000005 (the files in between were compacted away); the nearest restorable TXIDs are 0000000000000001 and 0000000000000005',
    );
    expect(names(await planRestore(c, { txid: 5 }))).toEqual([L(0, 1, 1), L(1, 2, 5)]);
    expect(names(await planRestore(c))).toEqual([L(0, 1, 1), L(1, 2, 5), L(0, 6, 6)]);
  });

  it('a TXID before the earliest snapshot still in the replica fails naming the earliest', async () => {
    const c = await copy();
    await remove(c, [0, 1, 1]);
    const err = await planError(c, { txid: 2 });
    expect(err).toBeInstanceOf(RestoreTargetError);
    expect(err.message).toBe(
      'not found: TXID 0000000000000002: the earliest restorable TXID is 0000000000000003 (9/0000000000000001-0000000000000003.ltx); earlier states are no longer in the replica',
    );
  });

  it('on equal reach prefers the higher level (fewer, larger files)', async () => {
    const c = await copy();
    await c.writeLtxFile(ref(2, 2, 5), await readFile(join(fixture.root, 'ltx', '1', formatLtxFilename(2, 5))), { timestamp: fixture.timeOf(5) });
    expect(names(await planRestore(c))).toEqual([L(9, 1, 3), L(2, 2, 5), L(0, 6, 6)]);
  });

  it('starts from a compaction of files starting at TXID 1 when it reaches further than any snapshot', async () => {
    const c = await copy();
    const sink = new MemorySink();
    const inputs = await Promise.all([1, 2, 3, 4].map(async (txid) => ({ source: Readable.from([await readFile(join(fixture.root, 'ltx', '0', formatLtxFilename(txid, txid)))]), name: L(0, txid, txid) })));
    await compactLtx(inputs, sink);
    await c.writeLtxFile(ref(1, 1, 4), sink.bytes, { timestamp: fixture.timeOf(4) });
    expect(names(await planRestore(c))).toEqual([L(1, 1, 4), L(1, 2, 5), L(0, 6, 6)]);
    expect(names(await planRestore(c, { txid: 4 }))).toEqual([L(1, 1, 4)]);
    // With no snapshot at all, an L0 chain from the first (snapshot) L0 file works alone.
    await remove(c, [1, 1, 4], [1, 2, 5], [9, 1, 3]);
    expect(names(await planRestore(c))).toEqual([1, 2, 3, 4, 5, 6].map((t) => L(0, t, t)));
  });

  it('an empty replica is NoBackupsError (a NotFoundError) naming the levels listed', async () => {
    for (const root of [join(scratch, 'empty-never-created'), await mkdtemp(join(scratch, 'empty-'))]) {
      const err = await planError(new FileReplicaClient(root), {});
      expect(err).toBeInstanceOf(NoBackupsError);
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err.message).toBe(
        'not found: backups: the file replica holds no LTX files (levels 0-9 listed, all empty); check the replica path or URL, or replicate to it first',
      );
      expect((err as NoBackupsError).levels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });
});
