import { describe, expect, it } from 'vitest';
import { FaultPolicy, HTTP_FAULT_KINDS, seededRandom, TCP_FAULT_KINDS, type FaultKind } from './fault-policy.ts';

const decisions = (policy: FaultPolicy, n: number) => Array.from({ length: n }, () => policy.decide()?.kind ?? 'pass');

describe('FaultPolicy', () => {
  it('replays: the same seed gives the same decisions, another seed others', () => {
    const make = (seed: number) => new FaultPolicy({ seed, rate: 0.3, stallMs: 1000, allowed: HTTP_FAULT_KINDS });
    const a = decisions(make(42), 500);
    expect(decisions(make(42), 500)).toEqual(a);
    expect(decisions(make(43), 500)).not.toEqual(a);
    expect(seededRandom(7)()).toBe(seededRandom(7)());
  });

  it('injects at about the rate, and deals every kind once per round of the deck', () => {
    const policy = new FaultPolicy({ seed: 1, rate: 0.1, stallMs: 1000, allowed: HTTP_FAULT_KINDS });
    const seen = decisions(policy, 20_000).filter((k) => k !== 'pass') as FaultKind[];
    expect(seen.length).toBeGreaterThan(1800);
    expect(seen.length).toBeLessThan(2200);
    for (let round = 0; round + HTTP_FAULT_KINDS.length <= seen.length; round += HTTP_FAULT_KINDS.length) {
      expect(new Set(seen.slice(round, round + HTTP_FAULT_KINDS.length)).size).toBe(HTTP_FAULT_KINDS.length);
    }
  });

  it('rate 0 forwards everything; a mode wins over windows and the rate until cleared', () => {
    let now = 1_000;
    const policy = new FaultPolicy({ seed: 3, stallMs: 500, allowed: HTTP_FAULT_KINDS, now: () => now });
    expect(decisions(policy, 100).every((k) => k === 'pass')).toBe(true);
    policy.schedule([{ kind: 'status-503', fromMs: 100, toMs: 200 }]);
    expect(policy.decide()).toBeUndefined();
    now += 150;
    expect(policy.decide()).toMatchObject({ kind: 'status-503', source: 'schedule' });
    policy.setMode('reset');
    expect(policy.decide()).toMatchObject({ kind: 'reset', source: 'mode' });
    policy.setMode(undefined);
    expect(policy.decide()?.kind).toBe('status-503');
    now += 100;
    expect(policy.decide()).toBeUndefined();
  });

  it('says when a stall ends: the window end, stallMs after a rate draw, never while a mode holds it', () => {
    let now = 10_000;
    const policy = new FaultPolicy({ seed: 5, rate: 1, kinds: ['stall'], stallMs: 700, allowed: TCP_FAULT_KINDS, now: () => now });
    expect(policy.decide()).toMatchObject({ kind: 'stall', source: 'rate', until: 10_700 });
    policy.setRate(0);
    policy.schedule([{ kind: 'stall', fromMs: 0, toMs: 300 }]);
    expect(policy.decide()).toMatchObject({ kind: 'stall', source: 'schedule', until: 10_300 });
    policy.setMode('stall');
    expect(policy.decide()?.until).toBe(Infinity);
  });

  it('refuses what it cannot do', () => {
    const tcp = new FaultPolicy({ seed: 1, stallMs: 1, allowed: TCP_FAULT_KINDS });
    expect(() => tcp.setMode('slowdown')).toThrow(/slowdown cannot be injected here/);
    expect(() => tcp.setRate(1.5)).toThrow(/between 0 and 1/);
    expect(() => tcp.setRate(0.5, [])).toThrow(/at least one fault kind/);
    expect(() => tcp.schedule([{ kind: 'reset', fromMs: 5, toMs: 5 }])).toThrow(/fromMs < toMs/);
  });
});
