import { silentLogger, type Logger } from '../engine/logger.ts';
import { SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { UsageError } from '../ltx/errors.ts';
import { formatTXID, type TXID } from '../ltx/txid.ts';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';
import { MAX_COMPACTION_LEVEL } from './compaction-level.ts';
import type { TxidRange } from './compaction-run.ts';

export interface RetentionOptions {
  /** How long snapshots are kept, in ms (`snapshot.retention`; Litestream's default is 24 h). */
  readonly snapshotRetention: number;
  /** How long a level-0 file stays once level 1 holds its TXIDs, in ms (`l0-retention`; default 5 min). */
  readonly l0Retention: number;
  /** Compaction levels in use (1..8; a 0 is accepted and ignored, level 0 has its own rule). */
  readonly levels: readonly number[];
  readonly now?: () => Date;
  readonly logger?: Logger;
  /** Abandons retention between (and during) storage calls. */
  readonly signal?: AbortSignal;
}

export interface RetentionResult {
  /** Every file deleted, snapshots first, then tiers in ascending order, then level 0. */
  readonly deleted: readonly LtxFileInfo[];
  /** How many files were deleted from each level examined (zeros included). */
  readonly deletedByLevel: Readonly<Record<number, number>>;
  /** maxTXID of the oldest snapshot kept, undefined when the replica holds none. */
  readonly floorTXID: TXID | undefined;
}

/**
 * Deletes the files of a replica that no restore can need any more (Litestream v0.5's rules):
 *
 * - **snapshots** (level 9) created before `now - snapshotRetention`, except the newest;
 * - **tier files** (the given levels 1..8) ending at or before the oldest kept snapshot
 *   (the *floor*), only when a snapshot exists; the newest file of each level is kept
 *   whatever its TXIDs, since its maxTXID is the level's end, which compaction reads to
 *   know what it has merged already;
 * - **level-0 files** that level 1 already holds (a level-1 file covers their TXIDs) and
 *   that were created before `now - l0Retention`, taken from the oldest up to the first
 *   file that is too young or not compacted, so the files left stay contiguous; the newest
 *   level-0 file, which marks where replication stands, is always kept.
 *
 * Invariant: a restore planned after this call to the latest TXID, or to any TXID at or
 * after the floor, still finds an unbroken chain: a kept snapshot at or before the target
 * (the newest is never deleted), then kept files from it onwards, since tier files are
 * deleted only when the floor snapshot covers them and level-0 files only when a level-1
 * file covers them. The only restore points given up are the per-transaction ones inside a
 * level-1 file's range once its level-0 files age out, which is what `l0Retention` sets.
 * Snapshots go first, so a restore that lists the replica halfway through never picks a
 * snapshot whose following files are already gone.
 */
export async function enforceRetention(client: ReplicaClient, options: RetentionOptions): Promise<RetentionResult> {
  checkOptions(options);
  const logger = options.logger ?? silentLogger;
  const now = (options.now ?? (() => new Date()))().getTime();
  const signal = options.signal;
  const deleted: LtxFileInfo[] = [];
  const deletedByLevel: Record<number, number> = {};
  const remove = async (level: number, files: readonly LtxFileInfo[], total: number): Promise<void> => {
    await client.deleteLtxFiles(files, { signal });
    deleted.push(...files);
    deletedByLevel[level] = files.length;
    const fields = { level, deleted: files.length, kept: total - files.length };
    if (files.length > 0) logger.info('retention enforced', fields);
    else logger.debug('retention enforced', fields);
  };

  const snapshots = await listLevel(client, SNAPSHOT_LEVEL, signal);
  const expired = expiredSnapshots(snapshots, now - options.snapshotRetention);
  await remove(SNAPSHOT_LEVEL, expired, snapshots.length);
  const kept = snapshots.filter((s) => !expired.includes(s));
  const floorTXID = kept.length > 0 ? Math.min(...kept.map((s) => s.maxTXID)) : undefined;
  if (floorTXID !== undefined) logger.debug('retention floor', { txid: formatTXID(floorTXID) });

  // Level 1 as it stood before tier retention: a level-1 file deleted below ends at or
  // before the floor, so the level-0 files it covered are covered by the floor snapshot.
  let level1: readonly LtxFileInfo[] | undefined;
  for (const level of tierLevels(options.levels)) {
    const files = await listLevel(client, level, signal);
    if (level === 1) level1 = files;
    await remove(level, floorTXID === undefined ? [] : coveredBySnapshot(files, floorTXID), files.length);
  }
  level1 ??= await listLevel(client, 1, signal);

  const l0 = await listLevel(client, 0, signal);
  await remove(0, releasableL0(l0, coveredRanges(level1), now - options.l0Retention), l0.length);
  return { deleted, deletedByLevel, floorTXID };
}

/** What one {@link enforceL0Retention} did. */
export interface L0RetentionResult {
  readonly deleted: readonly LtxFileInfo[];
  /**
   * Level-0 files kept that level 1 already holds but that are still too young, besides the
   * newest file (always kept): a later check may release them.
   */
  readonly waiting: number;
}

/**
 * Level-0 retention alone, by the rule of {@link enforceRetention}: deletes the oldest run of
 * level-0 files that level 1 holds and that were created before `now - l0Retention`, never the
 * newest. Meant to run on its own interval (Litestream's `l0-retention-check-interval`), so
 * compacted level-0 files go soon after they age out, not at the next compaction.
 */
export async function enforceL0Retention(
  client: ReplicaClient,
  options: Pick<RetentionOptions, 'l0Retention' | 'now' | 'logger' | 'signal'>,
): Promise<L0RetentionResult> {
  const value = options.l0Retention;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`l0Retention must be a non-negative number of milliseconds, got ${String(value)}`);
  const logger = options.logger ?? silentLogger;
  const now = (options.now ?? (() => new Date()))().getTime();
  const compacted = coveredRanges(await listLevel(client, 1, options.signal));
  const l0 = await listLevel(client, 0, options.signal);
  const released = releasableL0(l0, compacted, now - value);
  await client.deleteLtxFiles(released, { signal: options.signal });
  const fields = { level: 0, deleted: released.length, kept: l0.length - released.length };
  if (released.length > 0) logger.info('retention enforced', fields);
  else logger.debug('retention enforced', fields);
  const waiting = l0.slice(released.length, -1).filter((f) => compacted.some((r) => r.minTXID <= f.minTXID && f.maxTXID <= r.maxTXID)).length;
  return { deleted: released, waiting };
}

/** Snapshots created before `cutoff`, never the newest one. */
function expiredSnapshots(snapshots: readonly LtxFileInfo[], cutoff: number): LtxFileInfo[] {
  const newest = snapshots[snapshots.length - 1];
  return snapshots.filter((s) => s !== newest && s.createdAt.getTime() < cutoff);
}

/** Files ending at or before the floor, except the one(s) holding the level's end. */
function coveredBySnapshot(files: readonly LtxFileInfo[], floorTXID: TXID): LtxFileInfo[] {
  const end = Math.max(0, ...files.map((f) => f.maxTXID));
  return files.filter((f) => f.maxTXID <= floorTXID && f.maxTXID < end);
}

/** The oldest run of level-0 files that level 1 holds and that aged out, never the newest file. */
function releasableL0(files: readonly LtxFileInfo[], compacted: readonly TxidRange[], cutoff: number): LtxFileInfo[] {
  const out: LtxFileInfo[] = [];
  for (const file of files) {
    if (file.createdAt.getTime() >= cutoff) break;
    if (!compacted.some((r) => r.minTXID <= file.minTXID && file.maxTXID <= r.maxTXID)) break;
    out.push(file);
  }
  if (out.length > 0 && out.length === files.length) out.pop();
  return out;
}

/** Merges files' TXID ranges into disjoint ranges, joining ranges that touch. */
function coveredRanges(files: readonly LtxFileInfo[]): TxidRange[] {
  const ranges: { minTXID: TXID; maxTXID: TXID }[] = [];
  for (const f of [...files].sort((a, b) => a.minTXID - b.minTXID)) {
    const last = ranges[ranges.length - 1];
    if (last && f.minTXID <= last.maxTXID + 1) last.maxTXID = Math.max(last.maxTXID, f.maxTXID);
    else ranges.push({ minTXID: f.minTXID, maxTXID: f.maxTXID });
  }
  return ranges;
}

function tierLevels(levels: readonly number[]): number[] {
  return [...new Set(levels)].filter((l) => l >= 1).sort((a, b) => a - b);
}

async function listLevel(client: ReplicaClient, level: number, signal: AbortSignal | undefined): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const info of client.listLtxFiles(level, { signal })) files.push(info);
  return files;
}

function checkOptions(options: RetentionOptions): void {
  for (const key of ['snapshotRetention', 'l0Retention'] as const) {
    const value = options[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`${key} must be a non-negative number of milliseconds, got ${String(value)}`);
    }
  }
  for (const level of options.levels) {
    if (!Number.isInteger(level) || level < 0 || level > MAX_COMPACTION_LEVEL) {
      throw new UsageError(`retention levels must be compaction levels from 0 to ${MAX_COMPACTION_LEVEL}, got ${level}`);
    }
  }
}
