import { describe, expect, it } from 'vitest';
import { editDistance, suggestKey } from './suggest.ts';

describe('suggestKey', () => {
  const keys = ['monitor-interval', 'busy-timeout', 'sync-interval', 'path', 'url', 'replica', 'replicas'];
  it.each([
    ['montor-interval', 'monitor-interval'],
    ['busy-timout', 'busy-timeout'],
    ['sycn-interval', 'sync-interval'],
    ['Path', 'path'],
    ['replca', 'replica'],
    ['ulr', 'url'],
  ])('suggests %s → %s', (typo, key) => {
    expect(suggestKey(typo, keys)).toBe(key);
  });

  it.each(['colour', 'bucket', 'u', 'interval'])('suggests nothing for %s', (key) => {
    expect(suggestKey(key, keys)).toBeUndefined();
  });

  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
