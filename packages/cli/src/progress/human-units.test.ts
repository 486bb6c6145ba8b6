import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRate } from './human-units.ts';

describe('human units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [12.3 * 1024 * 1024, '12.3 MiB'],
    [1024 ** 3, '1.0 GiB'],
    [1024 ** 3 - 1, '1.0 GiB'],
    [1.5 * 1024 ** 4, '1.5 TiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('formats rates and durations', () => {
    expect(formatRate(45.6 * 1024 * 1024)).toBe('45.6 MiB/s');
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
  });
});
