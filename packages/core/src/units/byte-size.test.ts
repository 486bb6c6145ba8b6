import { describe, expect, it } from 'vitest';
import { parseByteSize } from './byte-size.ts';

describe('parseByteSize', () => {
  it.each<[string | number, number]>([
    ['5242880', 5_242_880],
    [5_242_880, 5_242_880],
    ['100B', 100],
    ['10MB', 10_000_000],
    ['1.5MB', 1_500_000],
    ['5120K', 5_120_000],
    ['5120KB', 5_120_000],
    ['64KiB', 65_536],
    ['64ki', 65_536],
    ['5MiB', 5 * 1024 * 1024],
    ['1.5MiB', 1_572_864],
    ['1GB', 1e9],
    ['2.5GiB', 2_684_354_560],
    ['1T', 1e12],
    ['10 mb', 10_000_000],
    ['1,000KB', 1_000_000],
    ['4.35MB', 4_350_000],
    ['0.5b', 0],
    ['  7 KiB  ', 7168],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  const hint = 'use forms like 5242880, 5MB, 5MiB, 1.5GB; KB/MB/GB count in 1000s, KiB/MiB/GiB in 1024s';
  it.each<[string | number, string]>([
    ['', `invalid size "" (${hint})`],
    ['MB', `invalid size "MB" (${hint})`],
    ['-5MB', `invalid size "-5MB" (${hint})`],
    ['5XB', `invalid size "5XB" (${hint})`],
    ['1.2.3MB', `invalid size "1.2.3MB" (${hint})`],
    ['5 megabytes', `invalid size "5 megabytes" (${hint})`],
    [-1, `invalid size "-1" (${hint})`],
    [1.5, `invalid size "1.5" (${hint})`],
    ['10EB', 'size "10EB" is too large (at most 9007199254740991 bytes)'],
  ])('refuses %j', (text, message) => {
    expect(() => parseByteSize(text)).toThrow(message);
  });
});
