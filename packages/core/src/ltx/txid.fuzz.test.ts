// Fuzzing the names of LTX files: replica listings skip every name `parseLtxFilename` refuses,
// so it must refuse (return undefined), never throw, whatever a directory or bucket holds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters, withinHangBound } from '../test-support/fuzz.ts';
import { UsageError } from './errors.ts';
import { formatLtxFilename, parseLtxFilename, parseTXID } from './txid.ts';

const params = { ...fuzzParameters(2000), timeout: undefined };
const hex16 = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((v) => v.toString(16).padStart(16, '0')),
  fc.constantFrom('0000000000000000', '0000000000000001', '001fffffffffffff', '0020000000000000', 'ffffffffffffffff'),
  fc.string({ minLength: 16, maxLength: 16, unit: fc.constantFrom(...'0123456789abcdefABCDEF-xg'.split('')) }),
);
const name = fc.oneof(
  fc.tuple(hex16, hex16, fc.constantFrom('.ltx', '.ltx', '.LTX', '.ltx.tmp', '')).map(([a, b, ext]) => `${a}-${b}${ext}`),
  fc.string({ maxLength: 40 }),
);

describe('fuzz: LTX file names', () => {
  it('parses any name into a valid TXID range that formats back to it, or refuses it without throwing', () => {
    fc.assert(
      fc.property(name, (text) => {
        const range = withinHangBound('parseLtxFilename', () => parseLtxFilename(text));
        if (range === undefined) return;
        expect(Number.isSafeInteger(range.maxTXID) && range.minTXID >= 1 && range.minTXID <= range.maxTXID).toBe(true);
        expect(formatLtxFilename(range.minTXID, range.maxTXID)).toBe(text);
      }),
      params,
    );
  });

  it('parses any TXID text into a TXID or a UsageError', () => {
    fc.assert(
      fc.property(fc.oneof(hex16, fc.string({ maxLength: 20 })), (text) => {
        try {
          expect(Number.isSafeInteger(parseTXID(text))).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(UsageError);
        }
      }),
      params,
    );
  });
});

describe('LTX file name regressions found by fuzzing', () => {
  it('refuses a name whose TXIDs exceed 2^53 - 1 instead of throwing, so listings skip it', () => {
    expect(parseLtxFilename('0000000000000001-0020000000000000.ltx')).toBeUndefined();
    expect(parseLtxFilename('ffffffffffffffff-ffffffffffffffff.ltx')).toBeUndefined();
    expect(parseLtxFilename('0000000000000001-001fffffffffffff.ltx')).toEqual({ minTXID: 1, maxTXID: 2 ** 53 - 1 });
  });
});
