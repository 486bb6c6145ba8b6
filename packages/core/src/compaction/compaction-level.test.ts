import { describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { DEFAULT_COMPACTION_LEVELS, MAX_COMPACTION_LEVEL, nextCompactionAt, previousCompactionAt, validateCompactionLevels } from './compaction-level.ts';

describe('compaction levels', () => {
  it('defaults to Litestream v0.5 tiers: L1 30 s, L2 5 min, L3 1 h, and they validate', () => {
    expect(DEFAULT_COMPACTION_LEVELS).toEqual([
      { level: 1, interval: 30_000 },
      { level: 2, interval: 300_000 },
      { level: 3, interval: 3_600_000 },
    ]);
    expect(Object.isFrozen(DEFAULT_COMPACTION_LEVELS)).toBe(true);
    expect(Object.isFrozen(DEFAULT_COMPACTION_LEVELS[0])).toBe(true);
    expect(() => validateCompactionLevels(DEFAULT_COMPACTION_LEVELS)).not.toThrow();
    expect(MAX_COMPACTION_LEVEL).toBe(8);
  });

  it('accepts every tier up to 8', () => {
    const levels = Array.from({ length: 8 }, (_, i) => ({ level: i + 1, interval: 1000 * (i + 1) }));
    expect(() => validateCompactionLevels(levels)).not.toThrow();
  });

  it.each([
    ['an empty list', [], /at least one compaction level \(level 1\)/],
    ['a list not starting at 1', [{ level: 2, interval: 1000 }], /numbered 2, expected 1/],
    ['level 0', [{ level: 0, interval: 1000 }], /numbered 0, expected 1/],
    ['a skipped level', [{ level: 1, interval: 1000 }, { level: 3, interval: 1000 }], /numbered 3, expected 2/],
    ['levels out of order', [{ level: 2, interval: 1000 }, { level: 1, interval: 1000 }], /numbered 2, expected 1/],
    ['a repeated level', [{ level: 1, interval: 1000 }, { level: 1, interval: 1000 }], /numbered 1, expected 2/],
    ['a fractional level', [{ level: 1.5, interval: 1000 }], /numbered 1.5/],
    ['a zero interval', [{ level: 1, interval: 0 }], /level 1 needs a positive interval in milliseconds, got 0/],
    ['a negative interval', [{ level: 1, interval: -5 }], /got -5/],
    ['a NaN interval', [{ level: 1, interval: Number.NaN }], /got NaN/],
    ['an infinite interval', [{ level: 1, interval: Infinity }], /got Infinity/],
  ])('refuses %s', (_name, levels, message) => {
    expect(() => validateCompactionLevels(levels)).toThrow(UsageError);
    expect(() => validateCompactionLevels(levels)).toThrow(message);
  });

  it('refuses a ninth tier, which would collide with the snapshot level', () => {
    const levels = Array.from({ length: 9 }, (_, i) => ({ level: i + 1, interval: 1000 }));
    expect(() => validateCompactionLevels(levels)).toThrow(/level 9 is too high: tiers go up to 8/);
  });

  it('schedules on wall-clock multiples of the interval, like Go’s time.Truncate', () => {
    const l1 = DEFAULT_COMPACTION_LEVELS[0]!;
    const l3 = DEFAULT_COMPACTION_LEVELS[2]!;
    const now = new Date('2026-03-04T05:06:47.250Z');
    expect(previousCompactionAt(l1, now).toISOString()).toBe('2026-03-04T05:06:30.000Z');
    expect(nextCompactionAt(l1, now).toISOString()).toBe('2026-03-04T05:07:00.000Z');
    expect(previousCompactionAt(l3, now).toISOString()).toBe('2026-03-04T05:00:00.000Z');
    expect(nextCompactionAt(l3, now).toISOString()).toBe('2026-03-04T06:00:00.000Z');
    // A time on the boundary is its own slot.
    const boundary = new Date('2026-03-04T05:07:00.000Z');
    expect(previousCompactionAt(l1, boundary)).toEqual(boundary);
    // 62135596800 s lie between Go's zero time and the Unix epoch; that is 4 s past a multiple of 7 s.
    expect(previousCompactionAt({ level: 1, interval: 7000 }, new Date(0)).getTime()).toBe(-4000);
  });
});
