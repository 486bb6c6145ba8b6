// Fuzzing the duration and byte-size parsers the config uses: any text gives a finite value
// or a UsageError quoting it, in bounded time; values read back from the forms they print.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { expectTyped, fuzzParameters, withinHangBound } from '../test-support/fuzz.ts';
import { parseByteSize } from './byte-size.ts';
import { formatDuration, parseDuration } from './duration.ts';

const params = { ...fuzzParameters(1000), timeout: undefined };
const DURATION_PIECES = ['0', '1', '9', '10', '.', '5', '-', '+', 'h', 'm', 's', 'ms', 'us', 'µs', 'μs', 'ns', 'd', ' ', 'e', '999999999999', '٣'];
const SIZE_PIECES = ['0', '1', '9', '.', ',', ' ', 'k', 'K', 'b', 'B', 'i', 'M', 'G', 'T', 'P', 'E', 'Z', 'iB', '-', 'e', '99999999999', '١'];
const pieces = (list: readonly string[]) => fc.oneof(fc.array(fc.constantFrom(...list), { maxLength: 12 }).map((p) => p.join('')), fc.string({ maxLength: 12 }));

describe('fuzz: durations', () => {
  it('parses any text into a finite number of milliseconds or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(pieces(DURATION_PIECES), (text) => {
        try {
          const ms = withinHangBound('parseDuration', () => parseDuration(text));
          expect(Number.isFinite(ms)).toBe(true);
        } catch (error) {
          const typed = expectTyped(error, [UsageError]);
          expect(typed.message).toContain(JSON.stringify(text));
        }
      }),
      params,
    );
  });

  it('reads h/m/s/ms compositions exactly, and reads back what formatDuration prints', () => {
    fc.assert(
      fc.property(// Up to 2000 h: nanoseconds stay exact in a double (Go's int64 has no such limit).
      fc.nat({ max: 2000 }), fc.nat({ max: 59 }), fc.nat({ max: 59 }), fc.nat({ max: 999 }), fc.boolean(), (h, m, s, ms, negative) => {
        const expected = ((h * 60 + m) * 60 + s) * 1000 + ms;
        const text = `${negative ? '-' : ''}${h}h${m}m${s}s${ms}ms`;
        expect(parseDuration(text)).toBe(negative && expected !== 0 ? -expected : expected);
        expect(parseDuration(formatDuration(expected))).toBe(expected);
      }),
      params,
    );
  });
});

describe('fuzz: byte sizes', () => {
  it('parses any text into a whole number of bytes or refuses it with a UsageError', () => {
    fc.assert(
      fc.property(pieces(SIZE_PIECES), (text) => {
        try {
          const bytes = withinHangBound('parseByteSize', () => parseByteSize(text));
          expect(Number.isSafeInteger(bytes) && bytes >= 0).toBe(true);
        } catch (error) {
          const typed = expectTyped(error, [UsageError]);
          expect(typed.message).toContain(JSON.stringify(text));
        }
      }),
      params,
    );
  });

  it('reads plain numbers, thousands separators and units exactly', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 33 }), fc.constantFrom(['', 1], ['B', 1], ['KiB', 1024], ['kb', 1000], ['MiB', 1024 ** 2], ['MB', 1e6]), (n, [unit, scale]) => {
        fc.pre(n * (scale as number) <= Number.MAX_SAFE_INTEGER);
        expect(parseByteSize(`${n}${unit}`)).toBe(n * (scale as number));
        expect(parseByteSize(` ${n.toLocaleString('en-US')} ${unit} `)).toBe(n * (scale as number));
        expect(parseByteSize(n)).toBe(n);
      }),
      params,
    );
  });
});
