import { describe, expect, it } from 'vitest';
import { v03SegmentPath, v03SnapshotPath, type V03Catalog, type V03Generation } from './v03-catalog.ts';
import { V03BackupError, V03NoSnapshotError } from './v03-errors.ts';
import { planV03Restore } from './v03-plan.ts';

const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

/** A generation from a compact description: snapshots `[index, second]`, segments `[index, offset, second]`. */
function generation(id: string, snapshots: Array<[number, number]>, segments: Array<[number, number, number]>): V03Generation {
  return {
    id,
    snapshots: snapshots.map(([index, s]) => ({ generation: id, index, path: v03SnapshotPath(id, index), size: 100, createdAt: at(s) })),
    segments: segments.map(([index, offset, s]) => ({ generation: id, index, offset, path: v03SegmentPath(id, index, offset), size: 10, createdAt: at(s) })),
  };
}
const A = 'aaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbb';

describe('planV03Restore', () => {
  const catalog: V03Catalog = {
    generations: [
      generation(A, [[0, 1], [3, 10]], [[0, 0, 2], [0, 4152, 3], [1, 0, 4], [2, 0, 6], [3, 0, 11], [3, 8272, 12]]),
      generation(B, [[0, 20]], [[0, 0, 21], [0, 4152, 22]]),
    ],
  };

  it('the latest: the generation with the newest data, its newest snapshot, the segments from its index on', () => {
    const plan = planV03Restore(catalog);
    expect(plan.generation).toBe(B);
    expect(plan.snapshot.index).toBe(0);
    expect(plan.segments.map((s) => s.path)).toEqual([v03SegmentPath(B, 0, 0), v03SegmentPath(B, 0, 4152)]);
    expect(plan.timestamp).toEqual(at(22));
    expect(plan.size).toBe(120);
  });

  it('a time picks the newest snapshot at or before it and the segments written by then', () => {
    const plan = planV03Restore(catalog, { timestamp: at(11) });
    expect(plan.generation).toBe(A);
    expect(plan.snapshot.index).toBe(3);
    expect(plan.segments.map((s) => `${s.index}/${s.offset}`)).toEqual(['3/0']);
    expect(plan.timestamp).toEqual(at(11));
    const earlier = planV03Restore(catalog, { timestamp: at(7) });
    expect(earlier.snapshot.index).toBe(0);
    expect(earlier.segments.map((s) => `${s.index}/${s.offset}`)).toEqual(['0/0', '0/4152', '1/0', '2/0']);
    expect(earlier.timestamp).toEqual(at(6));
  });

  it('a snapshot alone when no segment follows it in time', () => {
    const plan = planV03Restore(catalog, { timestamp: at(20) });
    expect(plan.generation).toBe(B);
    expect(plan.segments).toEqual([]);
    expect(plan.timestamp).toEqual(at(20));
  });

  it('segments stop at the first one written after the time, even if a later one is older', () => {
    const skewed: V03Catalog = { generations: [generation(A, [[0, 1]], [[0, 0, 2], [0, 100, 9], [0, 200, 3]])] };
    expect(planV03Restore(skewed, { timestamp: at(5) }).segments.map((s) => s.offset)).toEqual([0]);
  });

  it('a time before every snapshot, and a generation without snapshots', () => {
    expect(() => planV03Restore(catalog, { timestamp: at(0) })).toThrow(V03NoSnapshotError);
    expect(() => planV03Restore(catalog, { timestamp: at(0) })).toThrow(/the earliest is generations\/aaaaaaaaaaaaaaaa\/snapshots\/00000000\.snapshot\.lz4, written 2026-01-01T00:00:01\.000Z/);
    const bare: V03Catalog = { generations: [generation(A, [], [[0, 0, 1]])] };
    expect(() => planV03Restore(bare)).toThrow(/generation aaaaaaaaaaaaaaaa hold WAL segments but no snapshot to start from/);
  });

  it('a WAL index missing between the snapshot and later segments', () => {
    const gap: V03Catalog = { generations: [generation(A, [[0, 1]], [[0, 0, 2], [2, 0, 3]])] };
    expect(() => planV03Restore(gap)).toThrow(V03BackupError);
    expect(() => planV03Restore(gap)).toThrow(/^generations\/aaaaaaaaaaaaaaaa\/wal\/00000001_00000000\.wal\.lz4: missing: WAL index 1 of generation aaaaaaaaaaaaaaaa has no segments, but generations\/aaaaaaaaaaaaaaaa\/wal\/00000002_00000000\.wal\.lz4 follows/);
    // The snapshot's own index is needed too.
    const noFirst: V03Catalog = { generations: [generation(A, [[3, 1]], [[4, 0, 2]])] };
    expect(() => planV03Restore(noFirst)).toThrow(/00000003_00000000\.wal\.lz4: missing: WAL index 3/);
    const noStart: V03Catalog = { generations: [generation(A, [[0, 1]], [[0, 4152, 2]])] };
    expect(() => planV03Restore(noStart)).toThrow(/00000000_00000000\.wal\.lz4: missing: WAL index 0 of generation aaaaaaaaaaaaaaaa must start with a segment at offset 0/);
  });
});
