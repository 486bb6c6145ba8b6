import { describe, expect, it } from 'vitest';
import { UsageError, compareLtxFiles, type LtxFileRef } from '@litestream-ts/core';
import { CLOCK_TOLERANCE_MS, skipNote, type CaseContext } from '../case-context.ts';
import { pseudoRandomBytes } from '../support/pseudo-random.ts';
import { contentFor, listAll, ranges, ref, writeFiles } from '../support/replica.ts';

/** Listing: order, seek, isolation of levels, sizes and timestamps. */
export function listingCases({ client, capabilities }: CaseContext): void {
  it('lists nothing on every level 0..9 of an empty replica', async () => {
    for (let level = 0; level <= 9; level++) {
      expect(await listAll(client(), level), `level ${level}`).toEqual([]);
    }
  });

  it('lists 300 files written in shuffled order sorted by minTXID, then maxTXID', async () => {
    // Overlapping ranges (as compaction produces) make the maxTXID tie-break matter.
    const files: LtxFileRef[] = [];
    for (let min = 1; min <= 150; min++) files.push(ref(1, min, min), ref(1, min, min + 1 + (min % 5)));
    await writeFiles(client(), shuffle(files, 42));
    const listed = await listAll(client(), 1);
    expect(ranges(listed)).toEqual(ranges([...files].sort(compareLtxFiles)));
    for (const file of listed) {
      expect(file.level).toBe(1);
      expect(file.size, `size of ${file.minTXID}-${file.maxTXID}`).toBe(contentFor(file).byteLength);
    }
  });

  it('orders TXIDs as numbers: 0x9 < 0xa < 0x10, 0xff < 0x100, up to 2^53-1', async () => {
    const txids = [0x9, 0xa, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER];
    const files = txids.map((txid) => ref(0, txid, txid));
    await writeFiles(client(), [...files].reverse(), 1);
    expect(ranges(await listAll(client(), 0))).toEqual(txids.map((txid) => [txid, txid]));
  });

  it('returns only files whose minTXID is at or after seek', async () => {
    const files = [ref(2, 1, 4), ref(2, 5, 5), ref(2, 5, 8), ref(2, 6, 6), ref(2, 9, 12), ref(2, 13, 13)];
    await writeFiles(client(), files);
    expect(ranges(await listAll(client(), 2, { seek: 0 }))).toEqual(ranges(files));
    expect(ranges(await listAll(client(), 2, { seek: 1 }))).toEqual(ranges(files));
    // A file that merely contains the seek TXID (1-4 for seek 3) starts before it and is left out.
    expect(ranges(await listAll(client(), 2, { seek: 3 }))).toEqual([[5, 5], [5, 8], [6, 6], [9, 12], [13, 13]]);
    expect(ranges(await listAll(client(), 2, { seek: 6 }))).toEqual([[6, 6], [9, 12], [13, 13]]);
    expect(ranges(await listAll(client(), 2, { seek: 13 }))).toEqual([[13, 13]]);
    expect(await listAll(client(), 2, { seek: 14 })).toEqual([]);
  });

  it('keeps the files of one level invisible on every other level', async () => {
    await writeFiles(client(), [ref(0, 1, 1), ref(0, 2, 2), ref(3, 1, 2), ref(9, 1, 2)]);
    expect(ranges(await listAll(client(), 0))).toEqual([[1, 1], [2, 2]]);
    expect(ranges(await listAll(client(), 3))).toEqual([[1, 2]]);
    expect(ranges(await listAll(client(), 9))).toEqual([[1, 2]]);
    for (const level of [1, 2, 4, 5, 6, 7, 8]) expect(await listAll(client(), level), `level ${level}`).toEqual([]);
  });

  it('reports the stored size of each file', async () => {
    const sizes = [1, 100, 4096, 65_537, 300_001];
    for (const [i, size] of sizes.entries()) await client().writeLtxFile(ref(0, i + 1, i + 1), pseudoRandomBytes(size, i));
    expect((await listAll(client(), 0)).map((f) => f.size)).toEqual(sizes);
  });

  it("reports a createdAt for each listed file that falls within the time of its write", async () => {
    const before = Date.now();
    await writeFiles(client(), [ref(0, 1, 1), ref(0, 2, 2)]);
    const after = Date.now();
    for (const file of await listAll(client(), 0)) {
      expect(file.createdAt).toBeInstanceOf(Date);
      expect(file.createdAt.getTime()).toBeGreaterThanOrEqual(before - CLOCK_TOLERANCE_MS);
      expect(file.createdAt.getTime()).toBeLessThanOrEqual(after + CLOCK_TOLERANCE_MS);
    }
  });

  it.skipIf(!capabilities.metadataTimestamps)(
    `reports the LTX timestamp given at write time as createdAt${skipNote(capabilities, 'metadataTimestamps')}`,
    async () => {
      // Far from now and with a millisecond part, so neither the store's clock nor second rounding can pass.
      const timestamp = new Date('2021-03-04T05:06:07.089Z');
      const written = await client().writeLtxFile(ref(9, 1, 7), contentFor(ref(9, 1, 7)), { timestamp });
      expect(written.createdAt.toISOString()).toBe(timestamp.toISOString());
      const [listed] = await listAll(client(), 9, { useMetadata: true });
      expect(listed?.createdAt.toISOString()).toBe(timestamp.toISOString());
    },
  );

  it('returns an empty listing when seek is past the last file', async () => {
    await writeFiles(client(), [ref(4, 10, 20)]);
    expect(await listAll(client(), 4, { seek: 21 })).toEqual([]);
    expect(await listAll(client(), 5, { seek: 1 })).toEqual([]);
  });

  it('stops cleanly when the consumer breaks out of a listing early', async () => {
    const files = Array.from({ length: 80 }, (_, i) => ref(0, i + 1, i + 1));
    await writeFiles(client(), files);
    const seen: number[] = [];
    for await (const file of client().listLtxFiles(0)) {
      seen.push(file.minTXID);
      if (seen.length === 3) break;
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(await listAll(client(), 0)).toHaveLength(80);
  });

  describe('argument checks', () => {
    it('rejects a level outside 0..9 with UsageError', async () => {
      for (const level of [10, -1, 1.5]) await expect(listAll(client(), level), `level ${level}`).rejects.toBeInstanceOf(UsageError);
    });

    it('rejects a seek that is not a non-negative integer with UsageError', async () => {
      for (const seek of [-1, 2.5, Number.NaN]) await expect(listAll(client(), 0, { seek }), `seek ${seek}`).rejects.toBeInstanceOf(UsageError);
    });
  });
}

/** Fisher–Yates with a fixed seed, so a failing order can be replayed. */
function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
