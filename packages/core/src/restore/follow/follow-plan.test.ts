import { describe, expect, it } from 'vitest';
import type { LtxFileInfo } from '../../replica/replica-client.ts';
import { planFollow } from './follow-plan.ts';

const at = new Date(0);
const f = (level: number, minTXID: number, maxTXID: number, size = 100): LtxFileInfo => ({ level, minTXID, maxTXID, size, createdAt: at });
const names = (step: ReturnType<typeof planFollow>) => (step.kind === 'apply' ? step.files.map((x) => `${x.level}/${x.minTXID}-${x.maxTXID}`) : step.kind);
const none = new Set<number>();

describe('planFollow', () => {
  it('applies the level-0 files that continue the position, in order, and nothing before it', () => {
    expect(names(planFollow([f(0, 5, 5), f(0, 6, 6), f(0, 7, 9)], 5, none, { complete: false }))).toEqual(['0/6-6', '0/7-9']);
    expect(names(planFollow([f(0, 2, 2), f(0, 3, 3)], 5, none, { complete: false }))).toBe('idle');
  });

  it('stops at a gap: a partial listing says idle (the caller lists every level), a complete one asks for a restore', () => {
    expect(names(planFollow([f(0, 8, 8)], 5, none, { complete: false }))).toBe('idle');
    const step = planFollow([f(0, 8, 8)], 5, none, { complete: true });
    expect(step.kind).toBe('restore');
    expect(step.kind === 'restore' && step.reason).toMatch(/no file continues .*0000000000000005.*0\/0000000000000008-0000000000000008\.ltx/);
  });

  it('bridges a gap with a compacted file overlapping the position, preferring one whose start is known', () => {
    const files = [f(1, 3, 7), f(1, 5, 6), f(0, 8, 8)];
    expect(names(planFollow(files, 5, none, { complete: true }))).toEqual(['1/3-7', '0/8-8']);
    expect(names(planFollow([f(1, 3, 7), f(1, 4, 7)], 5, new Set([3]), { complete: true }))).toEqual(['1/4-7']);
    // An exact continuation beats a longer overlapping file.
    expect(names(planFollow([f(1, 3, 9), f(0, 6, 6)], 5, none, { complete: true }))).toEqual(['0/6-6', '1/3-9']);
  });

  it('never applies a full image in place: one past the position means restoring again', () => {
    const step = planFollow([f(0, 1, 12), f(0, 13, 13)], 5, none, { complete: true });
    expect(step.kind).toBe('restore');
    expect(step.kind === 'restore' && step.reason).toMatch(/full image/);
    // A snapshot that is not past the position changes nothing.
    expect(names(planFollow([f(9, 1, 5), f(0, 6, 6)], 5, none, { complete: true }))).toEqual(['0/6-6']);
  });

  it('sees a replica behind the output as a new chain, an empty one as empty, one at the position as idle', () => {
    const behind = planFollow([f(0, 1, 3)], 5, none, { complete: true });
    expect(behind.kind).toBe('restore');
    expect(behind.kind === 'restore' && behind.reason).toMatch(/behind the output/);
    expect(planFollow([], 5, none, { complete: true }).kind).toBe('empty');
    expect(planFollow([f(9, 1, 5)], 5, none, { complete: true }).kind).toBe('idle');
  });
});
