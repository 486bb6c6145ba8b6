import { describe, expect, it } from 'vitest';
import { UsageError } from '@litestream-ts/core';
import { MAX_PART_SIZE, MIN_PART_SIZE, parseConcurrency, parsePartSize } from './part-size.ts';

const MiB = 1024 * 1024;

describe('parsePartSize', () => {
  it.each([
    [5 * MiB, 5 * MiB],
    ['5242880', 5 * MiB],
    ['5MiB', 5 * MiB],
    ['5 mib', 5 * MiB],
    ['10MB', 10_000_000],
    ['10M', 10_000_000],
    ['1.5GB', 1_500_000_000],
    ['5120KiB', 5 * MiB],
    ['1GiB', 1024 * MiB],
    ['5GiB', MAX_PART_SIZE],
    ['100MB', 100_000_000],
  ])('%s is %d bytes', (input, bytes) => {
    expect(parsePartSize(input)).toBe(bytes);
  });

  it('takes 5MB, the minimum as the docs write it, as 5 MiB', () => {
    expect(parsePartSize('5MB')).toBe(MIN_PART_SIZE);
    expect(parsePartSize(5_000_000)).toBe(MIN_PART_SIZE);
  });

  it.each(['4MiB', '4999999', 1024, '0', '5.1GiB', '6GB', 6 * 1024 * MiB])('refuses %s as out of range, naming the bounds', (input) => {
    expect(() => parsePartSize(input)).toThrow(UsageError);
    expect(() => parsePartSize(input)).toThrow(/between 5MiB \(5242880 bytes\) and 5GiB \(5368709120 bytes\)/);
  });

  it.each(['', 'lots', '5XB', '-5MB', 1.5, Number.NaN, true])('refuses %s as not a size', (input) => {
    expect(() => parsePartSize(input)).toThrow(/invalid s3 part-size/);
  });
});

describe('parseConcurrency', () => {
  it('accepts whole numbers from 1, as numbers or text', () => {
    expect(parseConcurrency(1)).toBe(1);
    expect(parseConcurrency('10')).toBe(10);
  });

  it.each([0, -1, 2.5, 'two', ''])('refuses %s', (input) => {
    expect(() => parseConcurrency(input)).toThrow(/concurrency must be a whole number of at least 1/);
  });
});
