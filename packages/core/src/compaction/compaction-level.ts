import { SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { UsageError } from '../ltx/errors.ts';

/** One compaction tier: how often the files of the level below are merged into it. */
export interface CompactionLevel {
  /** Tier number, 1..8 (level 0 holds the replicator's own files, level 9 snapshots). */
  readonly level: number;
  /** Milliseconds between compactions into this level. */
  readonly interval: number;
}

/** Highest tier a compaction may write; the level above holds snapshots. */
export const MAX_COMPACTION_LEVEL = SNAPSHOT_LEVEL - 1;

/** Litestream v0.5's tiers: L1 every 30 s, L2 every 5 min, L3 every hour. */
export const DEFAULT_COMPACTION_LEVELS: readonly CompactionLevel[] = Object.freeze([
  Object.freeze({ level: 1, interval: 30_000 }),
  Object.freeze({ level: 2, interval: 5 * 60_000 }),
  Object.freeze({ level: 3, interval: 60 * 60_000 }),
]);

/**
 * Throws `UsageError` unless the tiers are numbered 1, 2, 3… in order (each level is
 * compacted from the one below it, so none may be skipped), stay at or below 8, and
 * every interval is a positive, finite number of milliseconds.
 */
export function validateCompactionLevels(levels: readonly CompactionLevel[]): void {
  // Without level 1 nothing ever compacts level 0, so its files would never be released.
  if (levels.length === 0) throw new UsageError('at least one compaction level (level 1) is required');
  levels.forEach((entry, i) => {
    const expected = i + 1;
    if (!Number.isInteger(entry.level) || entry.level !== expected) {
      throw new UsageError(`compaction level ${i + 1} of the list is numbered ${entry.level}, expected ${expected}: levels must be 1, 2, 3… in order`);
    }
    if (entry.level > MAX_COMPACTION_LEVEL) {
      throw new UsageError(`compaction level ${entry.level} is too high: tiers go up to ${MAX_COMPACTION_LEVEL} (level ${SNAPSHOT_LEVEL} holds snapshots)`);
    }
    if (typeof entry.interval !== 'number' || !Number.isFinite(entry.interval) || entry.interval <= 0) {
      throw new UsageError(`compaction level ${entry.level} needs a positive interval in milliseconds, got ${String(entry.interval)}`);
    }
  });
}

// Go truncates times to multiples of a duration counted from its zero time (0001-01-01 UTC),
// not from the Unix epoch; aligning the same way keeps schedules identical to Litestream's
// for every interval, including those that do not divide a day.
const GO_ZERO_TIME_MS = -62_135_596_800_000;

/**
 * The latest scheduled compaction time at or before `now` (Litestream's `PrevCompactionAt`).
 * A level whose newest file is younger than this was already compacted in this slot, which
 * is how a scheduler avoids compacting again right after a restart.
 */
export function previousCompactionAt(level: CompactionLevel, now: Date): Date {
  const sinceZero = now.getTime() - GO_ZERO_TIME_MS;
  return new Date(now.getTime() - (((sinceZero % level.interval) + level.interval) % level.interval));
}

/** The next scheduled compaction time after the current slot (Litestream's `NextCompactionAt`). */
export function nextCompactionAt(level: CompactionLevel, now: Date): Date {
  return new Date(previousCompactionAt(level, now).getTime() + level.interval);
}
