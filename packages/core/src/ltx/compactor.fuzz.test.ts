// Fuzzing compaction: merging a valid chain gives a file that decodes to the final state;
// a chain with one damaged byte is refused as corrupt (so the engine can tell damage on the
// replica from a bug) or, when the damage is invisible after decoding, compacts the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expectTyped, fromChunks, fuzzParameters, fuzzTestTimeout } from '../test-support/fuzz.ts';
import { chainArb, encodeSpec, stateChecksum, type DbState } from '../test-support/ltx-fuzz.ts';
import { MemorySink, decodeAll } from '../test-support/streams.ts';
import { compactLtx } from './compactor.ts';
import { ChecksumMismatchError, CorruptError } from './errors.ts';

async function compact(files: readonly Buffer[]): Promise<Buffer | Error> {
  const sink = new MemorySink();
  try {
    await compactLtx(
      files.map((bytes, i) => ({ source: fromChunks([bytes]), name: `file-${i}.ltx` })),
      sink,
    );
    return sink.bytes;
  } catch (error) {
    const typed = expectTyped<Error>(error, [CorruptError, ChecksumMismatchError]);
    expect(typed.message).toMatch(/^file-\d\.ltx: /);
    return typed;
  }
}

describe('fuzz: LTX compaction', () => {
  it('compacts a valid chain to its final state and refuses a damaged one as corrupt', async () => {
    await fc.assert(
      fc.asyncProperty(chainArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), async (chain, which, at, mask) => {
        const files = await Promise.all(chain.files.map((spec) => encodeSpec(spec)));
        const clean = await compact(files);
        expect(clean).not.toBeInstanceOf(Error);
        const final = chain.states[chain.states.length - 1]!;
        const decoded = await decodeAll(fromChunks([clean as Buffer]));
        expect(decoded.header.commit).toBe(final.commit);
        expect(decoded.postApplyChecksum).toBe(stateChecksum(final));

        const k = which % files.length;
        const damaged = files.map((b, i) => (i === k ? Buffer.from(b) : b));
        damaged[k]![at % damaged[k]!.byteLength]! ^= mask;
        const result = await compact(damaged);
        if (!(result instanceof Error)) {
          const again = await decodeAll(fromChunks([result]));
          expect(again.pages.map((p) => [p.pgno, p.data.toString('hex')])).toEqual(decoded.pages.map((p) => [p.pgno, p.data.toString('hex')]));
          expect(again.postApplyChecksum).toBe(decoded.postApplyChecksum);
        }
      }),
      fuzzParameters(60),
    );
  }, fuzzTestTimeout());
});

describe('LTX compaction regressions found by fuzzing', () => {
  it('reports a damaged TXID in a header as damage, not as a caller passing non-contiguous files', async () => {
    // Counterexample: a one-page snapshot and an empty incremental; byte 25 (in the
    // snapshot's max TXID) flipped, which made its header claim TXIDs 1..2^48+1.
    const state: DbState = { pageSize: 512, commit: 1, pages: new Map([[1, Buffer.alloc(512)]]) };
    const sum = stateChecksum(state);
    const files = [
      await encodeSpec({ init: { pageSize: 512, commit: 1, minTXID: 1, maxTXID: 1, timestamp: 1_700_000_000_001 }, pages: [[1, Buffer.alloc(512)]], post: undefined }),
      await encodeSpec({ init: { pageSize: 512, commit: 1, minTXID: 2, maxTXID: 2, timestamp: 1_700_000_000_002, preApplyChecksum: sum }, pages: [], post: sum }),
    ];
    expect(await compact(files)).not.toBeInstanceOf(Error);
    files[0]![25]! ^= 1;
    const error = await compact(files);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as Error).message).toMatch(/^file-0\.ltx: file checksum mismatch/);
  });

  it('reports damage that made a page number go backwards as damage, not as pages the output cannot take', async () => {
    // Counterexample: a 3-page snapshot, then an incremental writing pages 4..6; the last byte
    // of page 4's number xor 5 made it page 1, so the merged snapshot skipped page 4.
    const snapshot: DbState = { pageSize: 1024, commit: 3, pages: new Map([1, 2, 3].map((p) => [p, Buffer.alloc(1024)])) };
    const grown: DbState = { pageSize: 1024, commit: 6, pages: new Map([1, 2, 3, 4, 5, 6].map((p) => [p, Buffer.alloc(1024, p > 3 ? 0x62 : 0)])) };
    const files = [
      await encodeSpec({ init: { pageSize: 1024, commit: 3, minTXID: 1, maxTXID: 1, timestamp: 1_700_000_000_001 }, pages: [...snapshot.pages], post: undefined }),
      await encodeSpec({
        init: { pageSize: 1024, commit: 6, minTXID: 2, maxTXID: 2, timestamp: 1_700_000_000_002, preApplyChecksum: stateChecksum(snapshot) },
        pages: [4, 5, 6].map((p) => [p, grown.pages.get(p)!] as const),
        post: stateChecksum(grown),
      }),
    ];
    expect(await compact(files)).not.toBeInstanceOf(Error);
    files[1]![100 + 3]! ^= 5;
    const error = await compact(files);
    expect(error).toBeInstanceOf(CorruptError);
    expect((error as Error).message).toMatch(/^file-1\.ltx: corrupt LTX page-index: does not match the page frames/);
  });
});
