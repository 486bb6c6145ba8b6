import { MAX_LEVEL } from '../ltx/constants.ts';
import { UsageError } from '../ltx/errors.ts';
import { formatTXID, type TXID } from '../ltx/txid.ts';
import { ltxFilename, type LtxFileInfo, type LtxFileRef, type ReplicaClient } from '../replica/replica-client.ts';
import { NoBackupsError, RestoreTargetError, TxidGapError } from './restore-errors.ts';

/** What state to restore: the latest (neither given), a TXID, or the state at a time. */
export interface RestoreTarget {
  /** Restore exactly this TXID. */
  readonly txid?: TXID;
  /** Restore the last state whose file was made at or before this time. */
  readonly timestamp?: Date;
}

/** The LTX files that rebuild the target state, in the order they must be applied. */
export interface RestorePlan {
  /** A file starting at TXID 1 (a snapshot) first, then files that each extend the position. */
  readonly files: readonly LtxFileInfo[];
  /** TXID of the state the files produce. */
  readonly txid: TXID;
  /** Total bytes to download. */
  readonly size: number;
  /** `createdAt` of the last file: when the restored state was replicated. */
  readonly timestamp?: Date;
}

/** `<level>/<min>-<max>.ltx`: how restore names a replica file in messages. */
export function ltxFileLabel(ref: LtxFileRef): string {
  return `${ref.level}/${ltxFilename(ref)}`;
}

/**
 * Chooses the files that rebuild the target state: the file starting at TXID 1 that
 * reaches furthest within the target (a level-9 snapshot, or a first L0 file or a
 * compaction of files starting at 1, which hold every page too), then repeatedly the file
 * of any level that starts at or before position+1 and reaches furthest (a higher-level
 * file may overlap the position: it yields the state at its max TXID). Fails naming the
 * missing TXIDs when the chain has a hole before the target (or, for the latest and a
 * time target, before the last file in range), rather than restoring an older state.
 */
export async function planRestore(client: ReplicaClient, target: RestoreTarget = {}, options: { signal?: AbortSignal } = {}): Promise<RestorePlan> {
  checkTarget(target);
  const levels = await listAllLevels(client, target.timestamp !== undefined, options.signal);
  if (levels.every((files) => files.length === 0)) {
    throw new NoBackupsError(client.type, levels.map((_, level) => level));
  }
  const inTarget = targetFilter(target);
  const all = levels.flat();

  const start = all.filter((f) => f.minTXID === 1 && inTarget(f)).reduce<LtxFileInfo | undefined>((best, f) => (!best || reachesFurther(f, best) ? f : best), undefined);
  if (!start) throw noStartError(all, target);

  const files = [start];
  let pos = start.maxTXID;
  // One cursor a level over files sorted by min TXID: a file that cannot extend the position
  // now (ends at or before it, or lies outside the target) never can later, so each file is
  // looked at once. Each level keeps its best eligible file until the position passes it.
  const cursors = levels.map((list) => ({ list, next: 0, best: undefined as LtxFileInfo | undefined }));
  while (target.txid === undefined || pos < target.txid) {
    let choice: LtxFileInfo | undefined;
    for (const cursor of cursors) {
      if (cursor.best && cursor.best.maxTXID <= pos) cursor.best = undefined;
      while (cursor.next < cursor.list.length && cursor.list[cursor.next]!.minTXID <= pos + 1) {
        const f = cursor.list[cursor.next++]!;
        if (f.maxTXID > pos && inTarget(f) && (!cursor.best || reachesFurther(f, cursor.best))) cursor.best = f;
      }
      if (cursor.best && (!choice || reachesFurther(cursor.best, choice))) choice = cursor.best;
    }
    if (!choice) break;
    files.push(choice);
    pos = choice.maxTXID;
  }

  if (target.txid !== undefined && pos < target.txid) throw txidTargetError(all, files, target.txid);
  // Any file in range ending past the position starts after pos+1 (else it would have been
  // chosen): the chain has a hole, and restoring `pos` would silently be an older state.
  const beyond = firstFileAfter(all.filter(inTarget), pos);
  if (beyond) throw gapError(files, pos, beyond);

  const last = files[files.length - 1]!;
  return {
    files,
    txid: pos,
    size: files.reduce((sum, f) => sum + f.size, 0),
    timestamp: last.createdAt,
  };
}

async function listAllLevels(client: ReplicaClient, useMetadata: boolean, signal: AbortSignal | undefined): Promise<LtxFileInfo[][]> {
  const levels: LtxFileInfo[][] = [];
  for (let level = 0; level <= MAX_LEVEL; level++) {
    const files: LtxFileInfo[] = [];
    for await (const info of client.listLtxFiles(level, { useMetadata, signal })) files.push(info);
    // Listings are sorted by contract; sorting again is cheap and the cursors depend on it.
    files.sort((a, b) => a.minTXID - b.minTXID || a.maxTXID - b.maxTXID);
    levels.push(files);
  }
  return levels;
}

function checkTarget(target: RestoreTarget): void {
  if (target.txid !== undefined && target.timestamp !== undefined) {
    throw new UsageError('restore to a TXID or to a timestamp, not both');
  }
  if (target.txid !== undefined && (!Number.isSafeInteger(target.txid) || target.txid < 1)) {
    throw new UsageError(`restore TXID must be a positive integer, got ${target.txid}`);
  }
  if (target.timestamp !== undefined && !(target.timestamp instanceof Date && Number.isFinite(target.timestamp.getTime()))) {
    throw new UsageError(`restore timestamp must be a valid Date, got ${String(target.timestamp)}`);
  }
}

function targetFilter(target: RestoreTarget): (f: LtxFileInfo) => boolean {
  const txid = target.txid;
  const time = target.timestamp?.getTime();
  return (f) => (txid === undefined || f.maxTXID <= txid) && (time === undefined || f.createdAt.getTime() <= time);
}

/** True when `a` is the better next file than `b`: further, then higher level (fewer, larger files), then smaller. */
function reachesFurther(a: LtxFileInfo, b: LtxFileInfo): boolean {
  if (a.maxTXID !== b.maxTXID) return a.maxTXID > b.maxTXID;
  if (a.level !== b.level) return a.level > b.level;
  return a.size < b.size;
}

/** The file ending past `pos` that starts first (lowest level on ties). */
function firstFileAfter(files: readonly LtxFileInfo[], pos: TXID): LtxFileInfo | undefined {
  let first: LtxFileInfo | undefined;
  for (const f of files) {
    if (f.maxTXID <= pos) continue;
    if (!first || f.minTXID < first.minTXID || (f.minTXID === first.minTXID && f.level < first.level)) first = f;
  }
  return first;
}

function noStartError(all: readonly LtxFileInfo[], target: RestoreTarget): Error {
  const starts = all.filter((f) => f.minTXID === 1);
  if (starts.length === 0) return gapError([], 0, firstFileAfter(all, 0)!);
  if (target.timestamp !== undefined) {
    const earliest = starts.reduce((a, b) => (b.createdAt < a.createdAt ? b : a));
    return new RestoreTargetError(
      `a backup at or before ${target.timestamp.toISOString()}`,
      `the earliest restorable time is ${earliest.createdAt.toISOString()} (${ltxFileLabel(earliest)}); choose a later time`,
      { earliest: earliest.createdAt },
    );
  }
  const earliest = starts.reduce((a, b) => (b.maxTXID < a.maxTXID ? b : a));
  return new RestoreTargetError(
    `TXID ${formatTXID(target.txid ?? 0)}`,
    `the earliest restorable TXID is ${formatTXID(earliest.maxTXID)} (${ltxFileLabel(earliest)}); earlier states are no longer in the replica`,
  );
}

function txidTargetError(all: readonly LtxFileInfo[], files: readonly LtxFileInfo[], txid: TXID): Error {
  const pos = files[files.length - 1]!.maxTXID;
  const latest = all.reduce((a, b) => (b.maxTXID > a.maxTXID ? b : a));
  if (txid > latest.maxTXID) {
    return new RestoreTargetError(`TXID ${formatTXID(txid)}`, `the replica's latest TXID is ${formatTXID(latest.maxTXID)} (${ltxFileLabel(latest)})`, {
      latestTXID: latest.maxTXID,
    });
  }
  // Files continue the chain but only past the target: the single-TXID files in between
  // were compacted away, so only compaction boundaries can be restored here.
  const over = all.filter((f) => f.minTXID <= pos + 1 && f.maxTXID > pos);
  if (over.length > 0) {
    const nearest = over.reduce((a, b) => (b.maxTXID < a.maxTXID ? b : a));
    return new RestoreTargetError(
      `TXID ${formatTXID(txid)}`,
      `no file ends there: ${ltxFileLabel(nearest)} covers it but runs to ${formatTXID(nearest.maxTXID)} (the files in between were compacted away); the nearest restorable TXIDs are ${formatTXID(pos)} and ${formatTXID(nearest.maxTXID)}`,
    );
  }
  return gapError(files, pos, firstFileAfter(all, pos)!);
}

function gapError(files: readonly LtxFileInfo[], pos: TXID, next: LtxFileInfo): TxidGapError {
  return new TxidGapError({ reachedTXID: pos, reachedVia: describeFiles(files), nextMinTXID: next.minTXID, nextFile: ltxFileLabel(next) });
}

function describeFiles(files: readonly LtxFileInfo[]): string {
  if (files.length === 0) return 'no snapshot (no file starts at TXID 1)';
  if (files.length <= 3) return files.map(ltxFileLabel).join(', ');
  return `${ltxFileLabel(files[0]!)}, …, ${ltxFileLabel(files[files.length - 1]!)} (${files.length} files)`;
}
