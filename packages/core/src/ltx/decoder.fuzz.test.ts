// Fuzzing the LTX decoder (what `ltx verify`, restore and compaction read files with).
// Properties: valid files round-trip through any chunking; every other input is refused
// with a typed error (CorruptError or ChecksumMismatchError naming the file), in bounded
// time; one flipped byte is always noticed unless the decoded content is unchanged.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectTyped, fromChunks, fuzzParameters, fuzzTestTimeout, splitAt } from '../test-support/fuzz.ts';
import { napiFrame, writeFramePageLtx } from '../test-support/frame-ltx.ts';
import { encodeSpec, forge, forgedFileArb, headerBytes, ltxSpecArb, makePage, pageRecipe, rawHeaderArb } from '../test-support/ltx-fuzz.ts';
import { pageChecksum } from '../checksum/index.ts';
import { decodeAll } from '../test-support/streams.ts';
import { CHECKSUM_FLAG, HEADER_SIZE, lockPgno } from './constants.ts';
import { LtxDecoder, verifyLtx, type LtxDecodeResult } from './decoder.ts';
import { ChecksumMismatchError, CorruptError } from './errors.ts';
import { completeHeader, decodeHeader, encodeHeader, isSnapshot } from './header.ts';
import { PageWorkerPool } from './page-workers.ts';

const FILE = 'fuzzed.ltx';
const DECODE_ERRORS = [CorruptError, ChecksumMismatchError];
const cutsArb = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

/** Decodes and returns the result or the (typed, file-naming) error. */
async function verdict(bytes: Uint8Array, cuts: readonly number[], pool?: PageWorkerPool): Promise<LtxDecodeResult | Error> {
  try {
    return await verifyLtx(fromChunks(splitAt(bytes, cuts)), { file: FILE, pool });
  } catch (error) {
    const typed = expectTyped<Error>(error, DECODE_ERRORS);
    expect(typed.message.startsWith(`${FILE}: `), typed.message).toBe(true);
    return typed;
  }
}

/** What a decoded file says, for comparing two decodings. */
async function content(bytes: Uint8Array) {
  const d = await decodeAll(fromChunks([bytes]));
  return { header: d.header, pages: d.pages.map((p) => [p.pgno, p.data.toString('hex')]), post: d.postApplyChecksum, file: d.fileChecksum };
}

describe('fuzz: LTX decoder', () => {
  it('round-trips valid files through any chunking of the byte stream', async () => {
    await fc.assert(
      fc.asyncProperty(ltxSpecArb, fc.boolean(), cutsArb, async (spec, bulk, cuts) => {
        const bytes = await encodeSpec(spec, bulk);
        const decoded = await decodeAll(fromChunks(splitAt(bytes, cuts)));
        expect(decoded.header).toMatchObject(spec.init);
        expect(decoded.pages.map((p) => p.pgno)).toEqual(spec.pages.map(([pgno]) => pgno));
        decoded.pages.forEach((p, i) => expect(p.data.equals(spec.pages[i]![1])).toBe(true));
        if (spec.post !== undefined) expect(decoded.postApplyChecksum).toBe(spec.post);
        const result = await verdict(bytes, cuts);
        expect(result).not.toBeInstanceOf(Error);
        expect((result as LtxDecodeResult).size).toBe(bytes.byteLength);
      }),
      fuzzParameters(60),
    );
  }, fuzzTestTimeout());

  it('notices every flipped byte, unless the decoded content is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(ltxSpecArb, fc.nat(), fc.integer({ min: 1, max: 255 }), cutsArb, async (spec, at, mask, cuts) => {
        const bytes = await encodeSpec(spec);
        const damaged = Buffer.from(bytes);
        const pos = at % damaged.byteLength;
        damaged[pos]! ^= mask;
        const result = await verdict(damaged, cuts);
        if (result instanceof Error) return;
        // Accepted: only possible when the change is invisible after decoding, such as an
        // LZ4 match offset moved between two runs of equal bytes (the file checksum covers
        // the uncompressed pages, by the format's design). The content must then be identical.
        expect(await content(damaged)).toEqual(await content(bytes));
      }),
      fuzzParameters(200),
    );
  }, fuzzTestTimeout());

  it('refuses every truncation and every extension of a valid file', async () => {
    await fc.assert(
      fc.asyncProperty(ltxSpecArb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }), cutsArb, async (spec, at, extra, cuts) => {
        const bytes = await encodeSpec(spec);
        const short = await verdict(bytes.subarray(0, at % bytes.byteLength), cuts);
        expect(short).toBeInstanceOf(CorruptError);
        const long = await verdict(Buffer.concat([bytes, extra]), cuts);
        expect(long).toBeInstanceOf(CorruptError);
        expect((long as CorruptError).section).toBe('file');
      }),
      fuzzParameters(100),
    );
  }, fuzzTestTimeout());

  it('refuses random bytes, with or without a valid-looking header, with a typed error', async () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.tuple(rawHeaderArb, fc.uint8Array({ maxLength: 2048 })).map(([h, rest]) => Buffer.concat([headerBytes(h), rest])),
    );
    await fc.assert(
      fc.asyncProperty(input, cutsArb, async (bytes, cuts) => {
        await verdict(bytes, cuts);
      }),
      fuzzParameters(300),
    );
  }, fuzzTestTimeout());

  it('accepts a forged file only when it keeps every rule of the format', async () => {
    await fc.assert(
      fc.asyncProperty(forgedFileArb, cutsArb, async (file, cuts) => {
        const bytes = forge(file);
        const result = await verdict(bytes, cuts);
        if (result instanceof Error) return;
        // Accepted: check the rules independently of the decoder.
        const { header } = result;
        const pgnos = file.frames.map((f) => f.pgno);
        expect(result.pageCount).toBe(pgnos.length);
        const lock = lockPgno(header.pageSize);
        pgnos.forEach((pgno, i) => {
          expect(pgno).toBeGreaterThan(i === 0 ? 0 : pgnos[i - 1]!);
          expect(pgno).toBeLessThanOrEqual(header.commit);
          expect(pgno).not.toBe(lock);
        });
        if (isSnapshot(header)) {
          const expected = Array.from({ length: header.commit }, (_, i) => i + 1).filter((p) => p !== lock);
          expect(pgnos).toEqual(expected);
          if ((header.flags & 2) === 0) expect(result.postApplyChecksum).toBe(result.pagesChecksum);
        }
        expect(bytes.byteLength).toBe(result.size);
      }),
      fuzzParameters(300),
    );
  }, fuzzTestTimeout());

  it('decodes any 100 header bytes into a header that re-encodes to them, or refuses them', () => {
    fc.assert(
      fc.property(fc.oneof(rawHeaderArb.map(headerBytes), fc.uint8Array({ minLength: HEADER_SIZE, maxLength: HEADER_SIZE })), (bytes) => {
        let header;
        try {
          header = decodeHeader(bytes, FILE);
        } catch (error) {
          expectTyped(error, [CorruptError]);
          return;
        }
        // Everything a tool prints about a header must be printable.
        expect(new Date(header.timestamp).toISOString()).toMatch(/^[-+]?\d{4,6}-/);
        expect(encodeHeader(header).subarray(0, 80).equals(Buffer.from(bytes).subarray(0, 80))).toBe(true);
      }),
      { ...fuzzParameters(2000), timeout: undefined },
    );
  });
});

describe('fuzz: LTX files with LZ4 frame pages (Litestream v0.5.0–v0.5.15)', () => {
  it('decodes valid frame-page files and notices every flipped byte unless the content is unchanged', async () => {
    const input = fc.record({
      pageSize: fc.constantFrom(512, 4096, 65536),
      pages: fc.array(pageRecipe, { minLength: 1, maxLength: 8 }),
      blockChecksums: fc.boolean(),
      contentChecksum: fc.boolean(),
      at: fc.nat(),
      mask: fc.integer({ min: 0, max: 255 }),
    });
    await fc.assert(
      fc.asyncProperty(input, cutsArb, async ({ pageSize, pages, blockChecksums, contentChecksum, at, mask }, cuts) => {
        const data = pages.map((recipe) => makePage(recipe, pageSize));
        const post = data.reduce((x, page, i) => x ^ pageChecksum(i + 1, page), 0n) | CHECKSUM_FLAG;
        const header = completeHeader({ pageSize, commit: data.length, minTXID: 1, maxTXID: 1, timestamp: 0 });
        const bytes = writeFramePageLtx(header, data.map((page, i) => ({ pgno: i + 1, data: page, frame: napiFrame(page, { blockChecksums, contentChecksum }) })), post);
        const clean = await verdict(bytes, cuts);
        expect(clean).not.toBeInstanceOf(Error);
        expect((clean as LtxDecodeResult).postApplyChecksum).toBe(post);
        if (mask === 0) return;
        const damaged = Buffer.from(bytes);
        damaged[at % damaged.byteLength]! ^= mask;
        const result = await verdict(damaged, cuts);
        if (!(result instanceof Error)) expect(await content(damaged)).toEqual(await content(bytes));
      }),
      fuzzParameters(100),
    );
  }, fuzzTestTimeout());
});

describe('fuzz: LTX decoder on worker threads', () => {
  let pool: PageWorkerPool;
  beforeAll(() => {
    pool = new PageWorkerPool(1);
  });
  afterAll(async () => {
    await pool.close();
  });

  it('reaches the same verdict with a worker pool as on the calling thread', async () => {
    const input = fc.oneof(
      fc.record({ spec: ltxSpecArb, at: fc.nat(), mask: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ forged: forgedFileArb }),
    );
    await fc.assert(
      fc.asyncProperty(input, cutsArb, async (made, cuts) => {
        let bytes: Buffer;
        if ('forged' in made) {
          bytes = forge(made.forged);
        } else {
          bytes = Buffer.from(await encodeSpec(made.spec));
          bytes[made.at % bytes.byteLength]! ^= made.mask;
        }
        const alone = await verdict(bytes, cuts);
        const pooled = await verdict(bytes, cuts, pool);
        if (alone instanceof Error) {
          expect(pooled).toBeInstanceOf(alone.constructor);
          expect((pooled as Error).message).toBe(alone.message);
        } else {
          expect(pooled).not.toBeInstanceOf(Error);
          expect((pooled as LtxDecodeResult).postApplyChecksum).toBe(alone.postApplyChecksum);
          expect((pooled as LtxDecodeResult).pagesChecksum).toBe(alone.pagesChecksum);
        }
      }),
      fuzzParameters(40),
    );
  }, fuzzTestTimeout());
});

describe('LTX decoder regressions found by fuzzing', () => {
  it('refuses a header whose timestamp no Date can hold (it made `ltx dump` throw a RangeError)', () => {
    // Counterexample of "decodes any 100 header bytes…": flags 2, page size 512, commit 0,
    // TXIDs 2..3, timestamp 8640000000000001 ms (one past the last Date).
    const bytes = Buffer.alloc(HEADER_SIZE);
    Buffer.from([76, 84, 88, 49, 0, 0, 0, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 30, 178, 8, 194, 220, 0, 1]).copy(bytes);
    expect(() => decodeHeader(bytes, FILE)).toThrow(CorruptError);
    expect(() => decodeHeader(bytes, FILE)).toThrow(/fuzzed\.ltx: corrupt LTX header: timestamp 8640000000000001 is not a valid date/);
    bytes.writeBigInt64BE(8_640_000_000_000_000n, 32);
    expect(new Date(decodeHeader(bytes, FILE).timestamp).toISOString()).toBe('+275760-09-13T00:00:00.000Z');
  });

  it('finishes a file whose page iteration was stopped after its last page (compaction does so after a failure)', async () => {
    // Found through the compaction fuzzer: the stopped iteration had read the end of the page
    // block, and finish() then parsed the page index as page frames ("page 73668613 has flags").
    const spec = { init: { pageSize: 1024, commit: 3, minTXID: 1, maxTXID: 1, timestamp: 0 }, pages: [1, 2, 3].map((p) => [p, Buffer.alloc(1024, p)] as const), post: undefined };
    const bytes = await encodeSpec(spec);
    const decoder = new LtxDecoder(fromChunks([bytes]), { file: FILE });
    await decoder.readHeader();
    for await (const page of decoder.pages()) if (page.pgno === 3) break;
    const result = await decoder.finish();
    expect(result.pageCount).toBe(3);
    expect(result.size).toBe(bytes.byteLength);
  });
});
