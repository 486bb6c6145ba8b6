import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['-0', 0],
    ['10s', 10_000],
    ['500ms', 500],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['.5s', 500],
    ['1.s', 1000],
    ['2h45m30.5s', 9_930_500],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1μs', 0.001],
    ['1500ns', 0.0015],
    ['+3s', 3000],
    ['-2m', -120_000],
    ['24h', 86_400_000],
  ])('reads %s as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', 'invalid duration "" (use forms like 1s, 500ms, 1h30m)'],
    ['5 seconds', 'invalid duration "5 seconds" (use forms like 1s, 500ms, 1h30m)'],
    ['10', 'invalid duration "10": a unit is required (use forms like 1s, 500ms, 1h30m)'],
    ['1.5', 'invalid duration "1.5": a unit is required (use forms like 1s, 500ms, 1h30m)'],
    ['1d', 'invalid duration "1d" (use forms like 1s, 500ms, 1h30m)'],
    ['s', 'invalid duration "s" (use forms like 1s, 500ms, 1h30m)'],
    ['.s', 'invalid duration ".s" (use forms like 1s, 500ms, 1h30m)'],
    ['1h 30m', 'invalid duration "1h 30m" (use forms like 1s, 500ms, 1h30m)'],
    ['-', 'invalid duration "-" (use forms like 1s, 500ms, 1h30m)'],
    ['1S', 'invalid duration "1S" (use forms like 1s, 500ms, 1h30m)'],
    ['3000000h', 'invalid duration "3000000h": too long (durations are limited to about 292 years) (use forms like 1s, 500ms, 1h30m)'],
  ])('refuses %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [500, '500ms'],
    [1500, '1.5s'],
    [5_400_000, '1h30m0s'],
    [90_000, '1m30s'],
    [0.001, '1µs'],
    [-120_000, '-2m0s'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
