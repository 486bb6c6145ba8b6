import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import type { LtxFileInfo } from '../replica/replica-client.ts';
import { compactLevel } from './compact-level.ts';
import { enforceRetention, type RetentionOptions } from './retention.ts';
import { buildDatabaseHistory, type DatabaseHistory } from './test-support/database-history.ts';
import { label, levelZeroFile, listReplica, minute, range, writeLevelZero, writeSnapshot } from './test-support/ltx-fixtures.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { applyChain, planRestore, restorableTXIDs } from './test-support/restore-plan.ts';

const DAY = 24 * 60 * 60_000;
const MIN = 60_000;

let work: string;
let history: DatabaseHistory;
let client: FileReplicaClient;
let caseDir: string;
let caseNo = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'retention-'));
  history = await buildDatabaseHistory(work, 22);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => {
  caseDir = join(work, `case-${++caseNo}`);
  client = new FileReplicaClient(join(caseDir, 'replica'));
});

/**
 * A replica as the engine would leave it after 22 transactions written a minute apart:
 * L0 1..22; L1 1-4, 5-8, 9-12, 13-16, 17-20 (21 and 22 not compacted yet); L2 1-8, 9-16;
 * L3 1-16; snapshots of TXIDs 4, 8 and 16, each made at its TXID's minute.
 */
async function buildTimeline(): Promise<void> {
  for (const block of [range(1, 4), range(5, 8), range(9, 12), range(13, 16), range(17, 20)]) {
    await writeLevelZero(client, history, block);
    await compactLevel(client, 1);
    const end = block[block.length - 1]!;
    if (end === 8 || end === 16) await compactLevel(client, 2);
    if (end === 16) await compactLevel(client, 3);
  }
  await writeLevelZero(client, history, [21, 22]);
  for (const txid of [4, 8, 16]) await writeSnapshot(client, history, txid);
}

const TIMELINE = [
  ...range(1, 22).map((t) => `L0:${t}-${t}`),
  'L1:1-4', 'L1:5-8', 'L1:9-12', 'L1:13-16', 'L1:17-20',
  'L2:1-8', 'L2:9-16',
  'L3:1-16',
  'L9:1-4', 'L9:1-8', 'L9:1-16',
];

async function labels(): Promise<string[]> {
  return (await listReplica(client)).map(label);
}

function retain(options: Partial<RetentionOptions> & { at: number }) {
  const { at, ...rest } = options;
  return enforceRetention(client, { snapshotRetention: DAY, l0Retention: DAY, levels: [1, 2, 3], now: () => minute(at), ...rest });
}

describe('enforceRetention', () => {
  it('timeline fixture holds the files the cases below reason about', async () => {
    await buildTimeline();
    expect(await labels()).toEqual(TIMELINE);
    const l1 = (await listReplica(client)).filter((f) => f.level === 1);
    // Compacted files carry their last input's time.
    expect(l1.map((f) => f.createdAt)).toEqual([minute(4), minute(8), minute(12), minute(16), minute(20)]);
  });

  describe('(a) snapshots', () => {
    it('deletes snapshots older than the retention and keeps younger ones', async () => {
      await buildTimeline();
      // Cutoff at minute 6: the snapshot made at minute 4 goes; those of minutes 8 and 16 stay.
      const result = await retain({ at: 22, snapshotRetention: 16 * MIN, levels: [] });
      expect(result.deleted.map(label)).toEqual(['L9:1-4']);
      expect(result.floorTXID).toBe(8);
      expect(result.deletedByLevel).toEqual({ 9: 1, 0: 0 });
      expect(await labels()).toEqual(TIMELINE.filter((l) => l !== 'L9:1-4'));
    });

    it('always keeps the newest snapshot, however old', async () => {
      await buildTimeline();
      const result = await retain({ at: 22, snapshotRetention: MIN, levels: [] });
      expect(result.deleted.map(label)).toEqual(['L9:1-4', 'L9:1-8']);
      expect(result.floorTXID).toBe(16);
      expect((await labels()).filter((l) => l.startsWith('L9'))).toEqual(['L9:1-16']);

      // Even when all of them have aged out long ago.
      const again = await retain({ at: 10_000, snapshotRetention: 0, l0Retention: 100 * DAY, levels: [] });
      expect(again.deleted).toEqual([]);
      expect(again.floorTXID).toBe(16);
    });

    it('deletes nothing while every snapshot is within the retention', async () => {
      await buildTimeline();
      const result = await retain({ at: 22, snapshotRetention: DAY });
      expect(result.deleted.map(label)).toEqual(['L1:1-4']); // below the floor (4), see (b)
      expect((await labels()).filter((l) => l.startsWith('L9'))).toEqual(['L9:1-4', 'L9:1-8', 'L9:1-16']);
    });
  });

  describe('(b) tier files', () => {
    it('deletes files ending at or before the oldest kept snapshot, only in the levels in use', async () => {
      await buildTimeline();
      const logger = new RecordingLogger();
      const result = await retain({ at: 22, snapshotRetention: 16 * MIN, levels: [1, 2], logger });
      expect(result.floorTXID).toBe(8);
      // L1 5-8 ends exactly at the floor: the floor snapshot holds everything it does.
      expect(result.deleted.map(label)).toEqual(['L9:1-4', 'L1:1-4', 'L1:5-8', 'L2:1-8']);
      expect(result.deletedByLevel).toEqual({ 9: 1, 1: 2, 2: 1, 0: 0 });
      const kept = await labels();
      // L1 9-12 straddles the floor (a restore from snapshot 8 needs it); L3 is not a level in use.
      for (const l of ['L1:9-12', 'L1:13-16', 'L1:17-20', 'L2:9-16', 'L3:1-16', 'L9:1-8', 'L9:1-16']) expect(kept).toContain(l);
      expect(logger.at('info').map((r) => r.fields)).toEqual([
        { level: 9, deleted: 1, kept: 2 },
        { level: 1, deleted: 2, kept: 3 },
        { level: 2, deleted: 1, kept: 1 },
      ]);
    });

    it('keeps the newest file of each level, whose end compaction relies on', async () => {
      await buildTimeline();
      const result = await retain({ at: 22, snapshotRetention: MIN });
      expect(result.floorTXID).toBe(16);
      expect(result.deleted.map(label)).toEqual(['L9:1-4', 'L9:1-8', 'L1:1-4', 'L1:5-8', 'L1:9-12', 'L1:13-16', 'L2:1-8']);
      const kept = (await labels()).filter((l) => !l.startsWith('L0'));
      // L2 9-16 and L3 1-16 end at the floor but are their levels' newest files.
      expect(kept).toEqual(['L1:17-20', 'L2:9-16', 'L3:1-16', 'L9:1-16']);
      // So compaction does not merge again what those levels already hold.
      expect(await compactLevel(client, 2)).toMatchObject({ minTXID: 17, maxTXID: 20 });
      expect(await compactLevel(client, 3)).toMatchObject({ minTXID: 17, maxTXID: 20 });
    });

    it('deletes no tier file when the replica holds no snapshot', async () => {
      await buildTimeline();
      await client.deleteLtxFiles((await listReplica(client)).filter((f) => f.level === 9));
      const result = await retain({ at: 10_000, snapshotRetention: 0, l0Retention: 100 * DAY });
      expect(result.floorTXID).toBeUndefined();
      expect(result.deleted).toEqual([]);
      expect(await labels()).toEqual(TIMELINE.filter((l) => !l.startsWith('L9')));
    });
  });

  describe('(c) level 0', () => {
    it('deletes L0 files that level 1 holds once they age out, and keeps young ones', async () => {
      await buildTimeline();
      // Cutoff at minute 12: 1..11 are compacted and old; 12..20 compacted but young; 21, 22 not compacted.
      const result = await retain({ at: 22, l0Retention: 10 * MIN });
      const l0 = result.deleted.filter((f) => f.level === 0).map(label);
      expect(l0).toEqual(range(1, 11).map((t) => `L0:${t}-${t}`));
      expect(result.deletedByLevel[0]).toBe(11);
      expect(result.deleted.filter((f) => f.level !== 0).map(label)).toEqual(['L1:1-4']); // floor 4, see (b)
      expect((await labels()).filter((l) => l.startsWith('L0'))).toEqual(range(12, 22).map((t) => `L0:${t}-${t}`));
    });

    it('never deletes an L0 file level 1 does not hold yet, however old', async () => {
      await buildTimeline();
      const result = await retain({ at: 22, l0Retention: 0 });
      expect(result.deleted.filter((f) => f.level === 0).map(label)).toEqual(range(1, 20).map((t) => `L0:${t}-${t}`));
      // 21 was made at minute 21, before the cutoff (22), but L1 ends at 20.
      expect((await labels()).filter((l) => l.startsWith('L0'))).toEqual(['L0:21-21', 'L0:22-22']);
    });

    it('keeps the newest L0 file even when level 1 holds it and it aged out', async () => {
      await buildTimeline();
      expect(await compactLevel(client, 1)).toMatchObject({ minTXID: 21, maxTXID: 22 });
      const result = await retain({ at: 30, l0Retention: 0 });
      expect(result.deletedByLevel[0]).toBe(21);
      expect((await labels()).filter((l) => l.startsWith('L0'))).toEqual(['L0:22-22']);
    });

    it('deletes nothing from L0 while level 1 is empty', async () => {
      await writeLevelZero(client, history, range(1, 6));
      const result = await retain({ at: 100, l0Retention: 0 });
      expect(result.deleted).toEqual([]);
      expect(result.deletedByLevel).toEqual({ 9: 0, 1: 0, 2: 0, 3: 0, 0: 0 });
    });

    it('stops at the first young file, so the L0 files left stay contiguous', async () => {
      await writeLevelZero(client, history, range(1, 8));
      await compactLevel(client, 1);
      // TXID 3 re-uploaded late: young, though 4..8 around it are old.
      await client.writeLtxFile({ level: 0, minTXID: 3, maxTXID: 3 }, await levelZeroFile(history, 3, minute(3)), { timestamp: minute(29) });
      const result = await retain({ at: 30, l0Retention: 5 * MIN });
      expect(result.deleted.map(label)).toEqual(['L0:1-1', 'L0:2-2']);
    });
  });

  describe('invariant: nothing deleted is needed by a restore at or after the floor', () => {
    it('keeps every restore point at or after the oldest kept snapshot when L0 stays', async () => {
      await buildTimeline();
      const before = await listReplica(client);
      const result = await retain({ at: 22, snapshotRetention: 16 * MIN });
      const after = await listReplica(client);
      const floor = result.floorTXID!;
      expect(floor).toBe(8);
      expect(result.deleted.length).toBeGreaterThan(0);
      expect(restorableTXIDs(after, floor, 22)).toEqual(restorableTXIDs(before, floor, 22));
      expect(restorableTXIDs(after, floor, 22)).toEqual(range(8, 22));
      await expectRestoresMatch(after, range(floor, 22));
    });

    it('after all three rules, the latest TXID and every level-1 boundary still restore; only L0 points inside L1 files go', async () => {
      await buildTimeline();
      const before = await listReplica(client);
      const result = await retain({ at: 22, snapshotRetention: 16 * MIN, l0Retention: 10 * MIN });
      const after = await listReplica(client);
      const floor = result.floorTXID!;

      // The result names exactly what disappeared.
      expect(after.map(label).sort()).toEqual(before.filter((f) => !result.deleted.some((d) => label(d) === label(f))).map(label).sort());
      expect(planRestore(after, Infinity)).toMatchObject({ txid: 22 });
      for (let t = floor; t <= 22; t++) expect(planRestore(after, t)!.txid).toBeGreaterThanOrEqual(floor);

      const lost = restorableTXIDs(before, floor, 22).filter((t) => !restorableTXIDs(after, floor, 22).includes(t));
      expect(lost).toEqual([9, 10, 11]);
      const keptL1 = after.filter((f) => f.level === 1);
      for (const t of lost) expect(keptL1.some((f) => f.minTXID <= t && t < f.maxTXID)).toBe(true);
      for (const f of keptL1) expect(restorableTXIDs(after, f.maxTXID, f.maxTXID)).toEqual([f.maxTXID]);

      await expectRestoresMatch(after, restorableTXIDs(after, floor, 22));
    });
  });

  it('refuses negative or non-finite retentions and levels outside 0..8', async () => {
    const base: RetentionOptions = { snapshotRetention: DAY, l0Retention: DAY, levels: [1] };
    await expect(enforceRetention(client, { ...base, snapshotRetention: -1 })).rejects.toThrow(UsageError);
    await expect(enforceRetention(client, { ...base, l0Retention: Number.NaN })).rejects.toThrow(/l0Retention must be a non-negative number of milliseconds, got NaN/);
    await expect(enforceRetention(client, { ...base, snapshotRetention: Infinity })).rejects.toThrow(/snapshotRetention/);
    await expect(enforceRetention(client, { ...base, levels: [9] })).rejects.toThrow(/from 0 to 8, got 9/);
    await expect(enforceRetention(client, { ...base, levels: [1.5] })).rejects.toThrow(UsageError);
  });
});

/** Restores each TXID from the replica's files with LtxApplier and compares with the real database state. */
async function expectRestoresMatch(files: readonly LtxFileInfo[], txids: readonly number[]): Promise<void> {
  expect(txids.length).toBeGreaterThan(0);
  for (const t of txids) {
    const plan = planRestore(files, t);
    expect(plan?.txid).toBe(t);
    const bytes = await applyChain(client, plan!.chain, join(caseDir, `restore-${t}.db`));
    expect(bytes.equals(history.state(t)), `restore to TXID ${t} via ${plan!.chain.map(label).join(', ')}`).toBe(true);
  }
}
