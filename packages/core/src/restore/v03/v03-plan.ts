import { UsageError } from '../../ltx/errors.ts';
import { v03SegmentPath, type V03Catalog, type V03Generation, type V03Snapshot, type V03WalSegment } from './v03-catalog.ts';
import { V03BackupError, V03NoSnapshotError } from './v03-errors.ts';

/** The objects that rebuild a state from a Litestream v0.3 replica, in the order they are applied. */
export interface V03RestorePlan {
  readonly format: 'v0.3';
  readonly generation: string;
  /** The database image to start from. */
  readonly snapshot: V03Snapshot;
  /** WAL segments of the snapshot's index and later ones, by index then offset. */
  readonly segments: readonly V03WalSegment[];
  /** Bytes to download (as stored, compressed). */
  readonly size: number;
  /** When the last object of the plan was written: the time of the restored state. */
  readonly timestamp: Date;
}

/**
 * Chooses the v0.3 objects for the latest state, or the state at `timestamp` (as Litestream
 * v0.5 does for v0.3 backups, with objects' modification times):
 * - the generation whose restorable data is newest (at or before the time): its newest
 *   snapshot written at or before the time, then
 * - its WAL segments from the snapshot's index on, in index and offset order, up to the first
 *   one written after the time (a later one could not be applied past that gap anyway).
 * The segments must form WAL indexes that follow one another from the snapshot's index, each
 * starting at offset 0; that offsets within an index follow on is checked while applying, when
 * the segments' decompressed sizes are known. Throws `V03BackupError` naming a missing object,
 * `V03NoSnapshotError` when no snapshot is in range.
 */
export function planV03Restore(catalog: V03Catalog, target: { timestamp?: Date } = {}): V03RestorePlan {
  const time = target.timestamp?.getTime();
  if (time !== undefined && !Number.isFinite(time)) throw new UsageError(`restore timestamp must be a valid Date, got ${String(target.timestamp)}`);
  const inRange = (item: { createdAt: Date }): boolean => time === undefined || item.createdAt.getTime() <= time;

  const candidates: Candidate[] = [];
  for (const generation of catalog.generations) {
    const snapshot = generation.snapshots.filter(inRange).reduce<V03Snapshot | undefined>((best, s) => (!best || isNewer(s, best) ? s : best), undefined);
    if (!snapshot) continue;
    const segments = segmentsAfter(generation, snapshot, inRange);
    const last = segments[segments.length - 1];
    const end = last && last.createdAt > snapshot.createdAt ? last.createdAt : snapshot.createdAt;
    candidates.push({ generation, snapshot, segments, end });
  }
  if (candidates.length === 0) throw noSnapshot(catalog, target.timestamp);
  const chosen = candidates.reduce((best, c) => (c.end > best.end || (c.end.getTime() === best.end.getTime() && isNewer(c.snapshot, best.snapshot)) ? c : best));
  checkIndexes(chosen.snapshot, chosen.segments);
  return {
    format: 'v0.3',
    generation: chosen.generation.id,
    snapshot: chosen.snapshot,
    segments: chosen.segments,
    size: chosen.snapshot.size + chosen.segments.reduce((n, s) => n + s.size, 0),
    timestamp: chosen.end,
  };
}

interface Candidate {
  readonly generation: V03Generation;
  readonly snapshot: V03Snapshot;
  readonly segments: readonly V03WalSegment[];
  readonly end: Date;
}

/** Later written, or at the same time a higher index. */
function isNewer(a: V03Snapshot, b: V03Snapshot): boolean {
  return a.createdAt > b.createdAt || (a.createdAt.getTime() === b.createdAt.getTime() && a.index > b.index);
}

function segmentsAfter(generation: V03Generation, snapshot: V03Snapshot, inRange: (item: { createdAt: Date }) => boolean): V03WalSegment[] {
  const out: V03WalSegment[] = [];
  for (const segment of generation.segments) {
    if (segment.index < snapshot.index) continue;
    if (!inRange(segment)) break;
    out.push(segment);
  }
  return out;
}

/** Each WAL index from the snapshot's on must be present and start at offset 0. */
function checkIndexes(snapshot: V03Snapshot, segments: readonly V03WalSegment[]): void {
  let current: number | undefined;
  for (const segment of segments) {
    if (segment.index === current) continue;
    const expected = current === undefined ? snapshot.index : current + 1;
    if (segment.index !== expected) {
      throw new V03BackupError(
        v03SegmentPath(segment.generation, expected, 0),
        `missing: WAL index ${expected} of generation ${segment.generation} has no segments, but ${segment.path} follows (the snapshot ${snapshot.path} needs every WAL index from ${snapshot.index} on)`,
      );
    }
    if (segment.offset !== 0) {
      throw new V03BackupError(
        v03SegmentPath(segment.generation, segment.index, 0),
        `missing: WAL index ${segment.index} of generation ${segment.generation} must start with a segment at offset 0, but its first is ${segment.path}`,
      );
    }
    current = segment.index;
  }
}

function noSnapshot(catalog: V03Catalog, timestamp: Date | undefined): V03NoSnapshotError {
  const all = catalog.generations.flatMap((g) => g.snapshots);
  if (all.length === 0) {
    const ids = catalog.generations.map((g) => g.id).join(', ');
    return new V03NoSnapshotError(`a Litestream v0.3 snapshot: generation${catalog.generations.length === 1 ? '' : 's'} ${ids} hold WAL segments but no snapshot to start from`);
  }
  const earliest = all.reduce((a, b) => (b.createdAt < a.createdAt ? b : a));
  return new V03NoSnapshotError(
    `a Litestream v0.3 snapshot at or before ${timestamp?.toISOString() ?? 'now'}: the earliest is ${earliest.path}, written ${earliest.createdAt.toISOString()}; choose a later time`,
    earliest.createdAt,
  );
}
