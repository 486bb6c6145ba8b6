import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc64, pageChecksum } from '../checksum/index.ts';
import { MemorySink, chunked, decodeAll } from '../test-support/streams.ts';
import { CHECKSUM_FLAG, HEADER_SIZE, lockPgno } from './constants.ts';
import { LtxDecoder, verifyLtx } from './decoder.ts';
import { LtxEncoder } from './encoder.ts';
import { ChecksumMismatchError, CorruptError, UsageError } from './errors.ts';
import type { LtxHeaderInit } from './header.ts';

/** Pages that compress somewhat, like real b-tree pages: random head, zero tail. */
function makePage(pageSize: number, seed: number): Buffer {
  const page = Buffer.alloc(pageSize);
  randomBytes(Math.min(pageSize, 64 + (seed % 300))).copy(page);
  page.writeUInt32BE(seed, pageSize - 4);
  return page;
}

async function encode(init: LtxHeaderInit, pages: Array<[number, Buffer]>, post?: bigint) {
  const sink = new MemorySink();
  const encoder = new LtxEncoder(sink, init);
  for (const [pgno, data] of pages) await encoder.writePage(pgno, data);
  const result = await encoder.finish(post);
  return { bytes: sink.bytes, result };
}

describe('LTX encoder and decoder', () => {
  it('round-trips a snapshot through any chunking of the byte stream', async () => {
    const pages = Array.from({ length: 40 }, (_, i) => [i + 1, makePage(4096, i)] as [number, Buffer]);
    const { bytes, result } = await encode({ pageSize: 4096, commit: 40, minTXID: 1, maxTXID: 5, timestamp: 1_700_000_000_123 }, pages);
    expect(result.size).toBe(bytes.byteLength);
    expect(result.postApplyChecksum).toBe(pages.reduce((x, [pgno, data]) => x ^ pageChecksum(pgno, data), 0n) | CHECKSUM_FLAG);
    for (const chunk of [1, 7, 4096, 65536, bytes.byteLength]) {
      const decoded = await decodeAll(chunked(bytes, chunk));
      expect(decoded.header).toMatchObject({ pageSize: 4096, commit: 40, minTXID: 1, maxTXID: 5, timestamp: 1_700_000_000_123 });
      expect(decoded.pages.map((p) => p.pgno)).toEqual(pages.map(([n]) => n));
      decoded.pages.forEach((p, i) => expect(p.data.equals(pages[i]![1])).toBe(true));
      expect(decoded.postApplyChecksum).toBe(result.postApplyChecksum);
      expect(decoded.fileChecksum).toBe(result.fileChecksum);
    }
  });

  it('round-trips an incremental file with sparse pages and a caller-supplied post-apply checksum', async () => {
    const pages: Array<[number, Buffer]> = [3, 9, 200].map((n) => [n, makePage(512, n)]);
    const pre = CHECKSUM_FLAG | 0x1234n;
    const post = CHECKSUM_FLAG | 0x5678n;
    const { bytes } = await encode({ pageSize: 512, commit: 300, minTXID: 7, maxTXID: 7, preApplyChecksum: pre }, pages, post);
    const decoded = await decodeAll(chunked(bytes, 100));
    expect(decoded.header.preApplyChecksum).toBe(pre);
    expect(decoded.postApplyChecksum).toBe(post);
    expect(decoded.pages.map((p) => p.pgno)).toEqual([3, 9, 200]);
  });

  it('encodes an empty database snapshot (commit 0)', async () => {
    const { bytes, result } = await encode({ pageSize: 4096, commit: 0, minTXID: 1, maxTXID: 1 }, []);
    expect(result.postApplyChecksum).toBe(CHECKSUM_FLAG);
    expect((await verifyLtx(chunked(bytes, 50))).pageCount).toBe(0);
  });

  it('skips the lock page in a snapshot that crosses 1 GiB, and refuses to store it', async () => {
    const pageSize = 65536;
    const lock = lockPgno(pageSize);
    expect(lock).toBe(16385);
    const commit = lock + 3;
    const zero = Buffer.alloc(pageSize);
    const sink = new MemorySink();
    const encoder = new LtxEncoder(sink, { pageSize, commit, minTXID: 1, maxTXID: 1 });
    await expect(encoder.writePage(1, Buffer.alloc(10))).rejects.toThrow(/10 bytes, expected 65536/);
    for (let pgno = 1; pgno <= commit; pgno++) {
      if (pgno === lock) {
        await expect(encoder.writePage(pgno, zero)).rejects.toThrow(/lock page/);
        continue;
      }
      zero.writeUInt32BE(pgno, 0);
      await encoder.writePage(pgno, zero);
    }
    const result = await encoder.finish();
    const decoded = await verifyLtx(chunked(sink.bytes, 1 << 20));
    expect(decoded.pageCount).toBe(commit - 1);
    expect(decoded.postApplyChecksum).toBe(result.postApplyChecksum);
  }, 120_000);

  it('refuses pages out of order, beyond commit, gaps in a snapshot and an incomplete snapshot', async () => {
    const page = makePage(4096, 1);
    const snap = new LtxEncoder(new MemorySink(), { pageSize: 4096, commit: 3, minTXID: 1, maxTXID: 1 });
    await expect(snap.writePage(2, page)).rejects.toThrow(UsageError);
    await snap.writePage(1, page);
    await expect(snap.writePage(3, page)).rejects.toThrow(/sequential/);
    await snap.writePage(2, page);
    await expect(snap.finish()).rejects.toThrow(/incomplete: wrote pages up to 2, commit is 3/);

    const inc = new LtxEncoder(new MemorySink(), { pageSize: 4096, commit: 5, minTXID: 2, maxTXID: 2, preApplyChecksum: CHECKSUM_FLAG | 1n });
    await inc.writePage(4, page);
    await expect(inc.writePage(4, page)).rejects.toThrow(/ascending/);
    await expect(inc.writePage(6, page)).rejects.toThrow(/beyond commit 5/);
    await expect(inc.finish()).rejects.toThrow(/post-apply checksum required/);
  });

  it('refuses invalid headers before writing anything', () => {
    const sink = new MemorySink();
    expect(() => new LtxEncoder(sink, { pageSize: 1000, commit: 1, minTXID: 1, maxTXID: 1 })).toThrow(/page size 1000/);
    expect(() => new LtxEncoder(sink, { pageSize: 4096, commit: 1, minTXID: 3, maxTXID: 2 })).toThrow(/out of order/);
    expect(() => new LtxEncoder(sink, { pageSize: 4096, commit: 1, minTXID: 2, maxTXID: 2 })).toThrow(/pre-apply checksum missing/);
    expect(() => new LtxEncoder(sink, { pageSize: 4096, commit: 1, minTXID: 1, maxTXID: 1, preApplyChecksum: 5n })).toThrow(/snapshot has a non-zero/);
    expect(sink.chunks).toHaveLength(0);
  });
});

describe('LTX decoder on damaged files', () => {
  // A small incremental file whose layout we know: header 100, then frames, terminator, index, trailer.
  const fixture = (async () => {
    const pages: Array<[number, Buffer]> = [
      [2, makePage(4096, 2)],
      [5, makePage(4096, 5)],
    ];
    const { bytes, result } = await encode(
      { pageSize: 4096, commit: 8, minTXID: 4, maxTXID: 4, preApplyChecksum: CHECKSUM_FLAG | 99n, timestamp: 1_700_000_000_000 },
      pages,
      CHECKSUM_FLAG | 77n,
    );
    const decoder = new LtxDecoder(chunked(bytes, 1 << 20), { collectIndex: true });
    await decoder.readHeader();
    const frames = [];
    for await (const p of decoder.pages()) frames.push({ offset: p.frameOffset, size: p.frameSize });
    const { pageIndex } = await decoder.finish();
    const terminatorAt = frames[1]!.offset + frames[1]!.size;
    return { bytes, result, frames, pageIndex: pageIndex!, indexAt: terminatorAt + 6, trailerAt: bytes.byteLength - 16 };
  })();

  async function decodeMutated(mutate: (b: Buffer) => Buffer): Promise<unknown> {
    const { bytes } = await fixture;
    try {
      await verifyLtx(chunked(mutate(Buffer.from(bytes)), 333), { file: 'damaged.ltx' });
    } catch (err) {
      return err;
    }
    throw new Error('decoder accepted a damaged file');
  }
  const flip = (at: number | ((f: Awaited<typeof fixture>) => number), mask = 0x01) => async () => {
    const f = await fixture;
    const pos = typeof at === 'number' ? at : at(f);
    return decodeMutated((b) => {
      b[pos]! ^= mask;
      return b;
    });
  };

  const cases: Array<[string, () => Promise<unknown>, new (...a: never[]) => Error, RegExp]> = [
    ['header magic', flip(0), CorruptError, /damaged\.ltx: corrupt LTX header: bad magic/],
    ['header page size', flip(9, 0x02), CorruptError, /corrupt LTX header: invalid page size/],
    ['header flags', flip(7, 0x80), CorruptError, /corrupt LTX header: invalid flags/],
    ['header timestamp (no rule broken, caught by the file checksum)', flip(39), ChecksumMismatchError, /damaged\.ltx: file checksum mismatch/],
    ['page header page number', flip((f) => f.frames[1]!.offset + 3, 0x07), CorruptError, /corrupt LTX page: page \d+ is beyond commit 8|pages out of order/],
    ['page header flags', flip((f) => f.frames[0]!.offset + 5, 0x02), CorruptError, /corrupt LTX page: page 2 has flags 0x0003/],
    ['page size field', flip((f) => f.frames[0]!.offset + 6, 0x40), CorruptError, /corrupt LTX page: page 2 claims a compressed size/],
    ['page payload', flip((f) => f.frames[0]!.offset + 10 + 20, 0xff), Error, /damaged\.ltx: (file checksum mismatch|corrupt LTX page: page 2 does not decompress)/],
    ['page index entry', flip((f) => f.indexAt + 1, 0x01), CorruptError, /corrupt LTX page-index: does not match the page frames/],
    ['page index size field', flip((f) => f.trailerAt - 1, 0x01), CorruptError, /corrupt LTX page-index: declares \d+ bytes but holds/],
    ['trailer post-apply checksum', flip((f) => f.trailerAt + 7, 0x01), ChecksumMismatchError, /file checksum mismatch/],
    ['trailer file checksum', flip((f) => f.trailerAt + 15, 0x01), ChecksumMismatchError, /file checksum mismatch: stored [0-9a-f]{16}, computed [0-9a-f]{16}/],
  ];
  for (const [section, run, type, message] of cases) {
    it(`names the failure when one byte of the ${section} is flipped`, async () => {
      const err = await run();
      expect(err).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('names the section and offset when the file is truncated anywhere', async () => {
    const { bytes, frames, indexAt, trailerAt } = await fixture;
    const cuts: Array<[number, RegExp]> = [
      [0, /file is empty/],
      [50, /corrupt LTX header: truncated: file ends after 50 of 100 header bytes/],
      [HEADER_SIZE + 3, /corrupt LTX page: truncated: .* page header/],
      [frames[0]!.offset + 8, /corrupt LTX page: truncated: .* size of page 2/],
      [frames[0]!.offset + 20, /corrupt LTX page: truncated: .* data of page 2/],
      [indexAt + 2, /corrupt LTX page-index: truncated/],
      [trailerAt - 3, /corrupt LTX page-index: truncated: .* page index size/],
      [trailerAt + 10, /corrupt LTX trailer: truncated/],
    ];
    for (const [length, message] of cuts) {
      const err = await verifyLtx(chunked(bytes.subarray(0, length), 64), { file: 'cut.ltx' }).then(
        () => new Error(`accepted a file cut at ${length}`),
        (e: unknown) => e,
      );
      expect(err, `cut at ${length}`).toBeInstanceOf(CorruptError);
      expect((err as Error).message, `cut at ${length}`).toMatch(message);
    }
  });

  it('refuses bytes after the trailer', async () => {
    const { bytes } = await fixture;
    await expect(verifyLtx(chunked(Buffer.concat([bytes, Buffer.from([0])]), 999))).rejects.toThrow(/unexpected bytes after the trailer/);
  });

  it('refuses a snapshot whose trailer disagrees with its pages even when the file checksum is consistent', async () => {
    const pages: Array<[number, Buffer]> = [1, 2, 3].map((n) => [n, makePage(512, n)]);
    const { bytes } = await encode({ pageSize: 512, commit: 3, minTXID: 1, maxTXID: 1 }, pages);
    const decoded = await decodeAll(chunked(bytes, 1 << 20));
    const bad = Buffer.from(bytes);
    const trailerAt = bad.byteLength - 16;
    bad.writeBigUInt64BE(decoded.postApplyChecksum ^ 0x10n, trailerAt);
    // Recompute the file checksum the way the format defines it, so only the post-apply check can fail.
    const crc = new Crc64().update(bad.subarray(0, HEADER_SIZE));
    for (const p of decoded.pages) crc.update(bad.subarray(p.frameOffset, p.frameOffset + 10)).update(p.data);
    const last = decoded.pages[decoded.pages.length - 1]!;
    crc.update(bad.subarray(last.frameOffset + last.frameSize, trailerAt + 8));
    bad.writeBigUInt64BE(CHECKSUM_FLAG | crc.digest(), trailerAt + 8);
    const err = await verifyLtx(chunked(bad, 128), { file: 'snap.ltx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumMismatchError);
    expect((err as ChecksumMismatchError).kind).toBe('post-apply');
    expect((err as Error).message).toMatch(/snap\.ltx: post-apply checksum mismatch/);
  });
});
