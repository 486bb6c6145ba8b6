import { formatTXID, type TXID } from '../../ltx/txid.ts';
import type { LtxFileInfo } from '../../replica/replica-client.ts';
import { ltxFileLabel } from '../restore-plan.ts';

/** The TXIDs whose database checksum the follower remembers (a `Set` or a `Map` will do). */
export interface KnownStates {
  has(txid: TXID): boolean;
}

/** What a follower does next with the files a listing showed. */
export type FollowStep =
  /** Apply these files, in order, to the output (each one continues the one before). */
  | { readonly kind: 'apply'; readonly files: readonly LtxFileInfo[] }
  /** Nothing past the output's position yet. */
  | { readonly kind: 'idle' }
  /** The replica holds no LTX file at all (wiped, or not written yet). */
  | { readonly kind: 'empty' }
  /** The output cannot be brought forward file by file: restore the replica's latest state again. */
  | { readonly kind: 'restore'; readonly reason: string };

/**
 * Chooses how a follower at TXID `position` moves on, from a listing of the replica's files
 * (one level or all of them). A file can be applied in place when it continues the chain:
 * it starts at `position + 1` (its pre-apply checksum is then checked against the output), or
 * it starts earlier and ends later (a compacted file overlapping the position: applying its
 * pages yields the state at its end; its pre-apply checksum is checked when `known` holds
 * the output's checksum at the TXID before it, and its post-apply checksum always). Files
 * starting at TXID 1 are never applied in place: they are full images, and one past the
 * position means the primary restarted from a new snapshot. At each step exact continuations
 * come first (they carry no pages already applied), then overlapping files whose start is
 * known; among equals the one reaching furthest wins.
 *
 * With `complete` (every level was listed), no continuation but files beyond the position,
 * or a replica whose newest TXID is behind the position (a new chain after a wipe), asks
 * for a new restore. A partial listing (level 0 only) yields `apply` or `idle`; the caller
 * lists every level when it shows files past the position that it cannot apply.
 */
export function planFollow(files: readonly LtxFileInfo[], position: TXID, known: KnownStates, options: { complete: boolean }): FollowStep {
  const chain: LtxFileInfo[] = [];
  let pos = position;
  for (;;) {
    let exact: LtxFileInfo | undefined;
    let overlapping: LtxFileInfo | undefined;
    for (const f of files) {
      if (f.minTXID === 1 || f.maxTXID <= pos || f.minTXID > pos + 1) continue;
      if (f.minTXID === pos + 1) {
        if (!exact || reachesFurther(f, exact)) exact = f;
      } else if (!overlapping || overlapsBetter(f, overlapping, known)) {
        overlapping = f;
      }
    }
    const next = exact ?? overlapping;
    if (!next) break;
    chain.push(next);
    pos = next.maxTXID;
  }
  if (chain.length > 0) return { kind: 'apply', files: chain };
  if (!options.complete) return { kind: 'idle' };
  if (files.length === 0) return { kind: 'empty' };
  const newest = files.reduce((a, b) => (b.maxTXID > a.maxTXID || (b.maxTXID === a.maxTXID && b.level > a.level) ? b : a));
  if (newest.maxTXID <= position) {
    if (newest.maxTXID === position) return { kind: 'idle' };
    return { kind: 'restore', reason: `the replica's newest TXID is ${formatTXID(newest.maxTXID)} (${ltxFileLabel(newest)}), behind the output's ${formatTXID(position)}: the primary started a new chain` };
  }
  const beyond = files.filter((f) => f.maxTXID > position).reduce((a, b) => (b.minTXID < a.minTXID ? b : a));
  if (beyond.minTXID === 1) {
    // A new snapshot after a restart of the primary, or a compaction from TXID 1 after the
    // files that would continue the output were removed: a full image either way.
    return { kind: 'restore', reason: `no file continues the output's TXID ${formatTXID(position)} but ${ltxFileLabel(beyond)}, a full image (the primary restarted from a new snapshot, or the files after the output's TXID were compacted away)` };
  }
  return { kind: 'restore', reason: `no file continues the output's TXID ${formatTXID(position)}; the next starts at ${formatTXID(beyond.minTXID)} (${ltxFileLabel(beyond)})` };
}

/** Among files overlapping the position: one whose starting state is known (checkable) first, then the furthest. */
function overlapsBetter(a: LtxFileInfo, b: LtxFileInfo, known: KnownStates): boolean {
  const ka = known.has(a.minTXID - 1);
  if (ka !== known.has(b.minTXID - 1)) return ka;
  return reachesFurther(a, b);
}

function reachesFurther(a: LtxFileInfo, b: LtxFileInfo): boolean {
  if (a.maxTXID !== b.maxTXID) return a.maxTXID > b.maxTXID;
  if (a.level !== b.level) return a.level > b.level;
  return a.size < b.size;
}
