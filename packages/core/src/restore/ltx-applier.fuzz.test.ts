// Fuzzing what restore does with LTX files: apply a chain (snapshot, then incrementals)
// to a database file. A valid chain gives exactly the database the files describe; a chain
// with one damaged byte is refused with a typed error or, when the damage is invisible after
// decoding, gives the same database. Headers that claim huge databases cost no memory.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { CorruptError, LitestreamError } from '../ltx/errors.ts';
import { expectTyped, fromChunks, fuzzParameters, fuzzTestTimeout, splitAt } from '../test-support/fuzz.ts';
import { chainArb, encodeSpec, headerBytes, type DbState } from '../test-support/ltx-fuzz.ts';
import { LtxApplier } from './ltx-applier.ts';

const dir = mkdtempSync(join(tmpdir(), 'lts-applier-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

/** The database file a state describes: every page in place, zeros where none was written. */
function databaseBytes(state: DbState): Buffer {
  const out = Buffer.alloc(state.commit * state.pageSize);
  for (const [pgno, data] of state.pages) if (pgno <= state.commit) data.copy(out, (pgno - 1) * state.pageSize);
  return out;
}

/** Applies the files in order to a new database; returns its bytes or the typed error. */
async function applyAll(files: readonly Buffer[], cuts: readonly number[]): Promise<Buffer | Error> {
  const path = join(dir, `db-${runs++}`);
  const applier = new LtxApplier(path);
  try {
    for (const [i, bytes] of files.entries()) await applier.apply(fromChunks(splitAt(bytes, cuts)), `file-${i}.ltx`);
    await applier.close({ sync: false });
    return readFileSync(path);
  } catch (error) {
    await applier.close({ sync: false }).catch(() => undefined);
    const typed = expectTyped<LitestreamError>(error, [LitestreamError]);
    expect(typed.message).toMatch(/file-\d\.ltx/);
    return typed;
  } finally {
    rmSync(path, { force: true });
  }
}

describe('fuzz: applying LTX chains (restore)', () => {
  it('restores exactly the database a valid chain describes, and refuses or ignores one damaged byte', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), async (chain, which, at, mask, cuts) => {
        const files = await Promise.all(chain.files.map((spec) => encodeSpec(spec)));
        const expected = databaseBytes(chain.states[chain.states.length - 1]!);
        const clean = await applyAll(files, cuts);
        expect(clean).toEqual(expected);

        const k = which % files.length;
        const damaged = files.map((b, i) => (i === k ? Buffer.from(b) : b));
        damaged[k]![at % damaged[k]!.byteLength]! ^= mask;
        const result = await applyAll(damaged, cuts);
        if (!(result instanceof Error)) expect(result.equals(expected)).toBe(true);
      }),
      fuzzParameters(60),
    );
  }, fuzzTestTimeout());
});

describe('LTX applier regressions found by fuzzing', () => {
  for (const commit of [2 ** 31, 2 ** 32 - 1]) {
    it(`refuses a truncated snapshot claiming ${commit} pages without allocating for them`, async () => {
      const header = headerBytes({
        magic: 'LTX1', flags: 0, pageSize: 4096, commit, minTXID: 1n, maxTXID: 1n, timestamp: 0n,
        preApplyChecksum: 0n, walOffset: 0n, walSize: 0n, walSalt1: 0, walSalt2: 0, nodeID: 0n,
      });
      const before = process.memoryUsage().arrayBuffers;
      const result = await applyAll([header], []);
      const grown = process.memoryUsage().arrayBuffers - before;
      expect(result).toBeInstanceOf(CorruptError);
      expect((result as Error).message).toMatch(/file-0\.ltx: corrupt LTX page: truncated/);
      expect(grown).toBeLessThan(64 << 20);
    });
  }
});
