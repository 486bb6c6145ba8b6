import { describe, expect, it } from 'vitest';
import type { LtxFileInfo } from '../replica/replica-client.ts';
import { selectCompactionRun } from './compaction-run.ts';

const file = (minTXID: number, maxTXID: number): LtxFileInfo => ({ level: 0, minTXID, maxTXID, size: 1, createdAt: new Date(0) });
const names = (files: readonly LtxFileInfo[]) => files.map((f) => `${f.minTXID}-${f.maxTXID}`);

describe('selectCompactionRun', () => {
  it('takes every file past the destination end when they chain', () => {
    const run = selectCompactionRun([file(1, 1), file(2, 2), file(3, 3), file(4, 4)], 2);
    expect(names(run.files)).toEqual(['3-3', '4-4']);
    expect(run.gapBefore).toBeUndefined();
    expect(run.gapAfter).toBeUndefined();
  });

  it('returns nothing when the destination already reaches the source end', () => {
    expect(selectCompactionRun([file(1, 1), file(2, 2)], 2).files).toEqual([]);
    expect(selectCompactionRun([file(1, 4)], 9).files).toEqual([]);
    expect(selectCompactionRun([], 0).files).toEqual([]);
  });

  it('stops before a hole and names it', () => {
    const run = selectCompactionRun([file(1, 1), file(2, 2), file(5, 5), file(6, 6), file(9, 9)], 0);
    expect(names(run.files)).toEqual(['1-1', '2-2']);
    expect(run.gapAfter).toEqual({ minTXID: 3, maxTXID: 4 });
    expect(run.gapBefore).toBeUndefined();
  });

  it('starts an empty destination wherever the source starts, without calling it a hole', () => {
    const run = selectCompactionRun([file(5, 5), file(6, 6)], 0);
    expect(names(run.files)).toEqual(['5-5', '6-6']);
    expect(run.gapBefore).toBeUndefined();
  });

  it('jumps a hole between a non-empty destination and the source, and names it', () => {
    const run = selectCompactionRun([file(9, 9), file(10, 10)], 6);
    expect(names(run.files)).toEqual(['9-9', '10-10']);
    expect(run.gapBefore).toEqual({ minTXID: 7, maxTXID: 8 });
  });

  it('keeps a file that straddles the destination end and skips files inside the run', () => {
    const run = selectCompactionRun([file(1, 4), file(3, 8), file(5, 6), file(9, 12)], 6);
    expect(names(run.files)).toEqual(['3-8', '9-12']);
  });

  it('drops run files that a later file starting at the same TXID covers (a full image replacing a damaged file)', () => {
    // Level 1 holds 1-4 (say, damaged) and 1-12, a compaction of the full image that replaced it.
    expect(names(selectCompactionRun([file(1, 4), file(1, 12), file(5, 8)], 0).files)).toEqual(['1-12']);
    expect(names(selectCompactionRun([file(3, 4), file(3, 9), file(10, 10)], 2).files)).toEqual(['3-9', '10-10']);
  });
});
