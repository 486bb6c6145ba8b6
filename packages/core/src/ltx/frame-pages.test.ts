import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadXxh32 } from '../lz4/xxh32.ts';
import { lz4CliFrame, napiFrame, writeFramePageLtx, type FramePage } from '../test-support/frame-ltx.ts';
import { frameDir, goldenDir } from '../test-support/paths.ts';
import { chunked, decodeAll } from '../test-support/streams.ts';
import { LtxApplier } from '../restore/ltx-applier.ts';
import { HEADER_SIZE } from './constants.ts';
import { verifyLtx } from './decoder.ts';
import { ChecksumMismatchError, CorruptError } from './errors.ts';
import { FramePages } from './frame-pages.ts';
import { acquireLocalExecutor } from './local-executor.ts';
import { formatLtxFilename } from './txid.ts';

const work = await mkdtemp(join(tmpdir(), 'ltx-frame-pages-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const vector = (n: number) => join(frameDir(), 'set-4096', 'ltx', formatLtxFilename(n, n));
const blockVector = (n: number) => join(goldenDir(), 'set-4096', 'ltx', formatLtxFilename(n, n));
const xxh32 = await loadXxh32();

/** A reference frame-page file: its bytes, decoded pages, and each page's LZ4 frame as stored. */
async function load(n: number) {
  const file = vector(n);
  const bytes = await readFile(file);
  const decoded = await decodeAll(file);
  const frames = decoded.pages.map((p) => bytes.subarray(p.frameOffset + 6, p.frameOffset + p.frameSize));
  return { file, bytes, ...decoded, frames };
}

/** The file `n` with each page's frame replaced by `frameOf` (header, page index and file checksum made to match). */
async function rebuild(n: number, frameOf: (page: { pgno: number; data: Buffer; frame: Buffer }, i: number) => Uint8Array | FramePage): Promise<Buffer> {
  const ref = await load(n);
  const pages = ref.pages.map((p, i) => {
    const made = frameOf({ pgno: p.pgno, data: p.data, frame: ref.frames[i]! }, i);
    return made instanceof Uint8Array ? { pgno: p.pgno, data: p.data, frame: made } : made;
  });
  return writeFramePageLtx(ref.header, pages, ref.postApplyChecksum);
}

let files = 0;
/** Writes `bytes` to a file of its own and verifies it from there, returning the error. */
async function failure(bytes: Uint8Array): Promise<{ error: Error; file: string }> {
  const file = join(work, `damaged-${++files}.ltx`);
  await writeFile(file, bytes);
  try {
    await verifyLtx(createReadStream(file), { file });
  } catch (error) {
    return { error: error as Error, file };
  }
  throw new Error(`${file} verified`);
}

describe('frame pages made by other LZ4 encoders', () => {
  const variants: Array<[string, (data: Buffer) => Uint8Array]> = [
    ['lz4 -BX --content-size', (d) => lz4CliFrame(d, ['-BX', '--content-size'])],
    ['lz4 --no-frame-crc', (d) => lz4CliFrame(d, ['--no-frame-crc'])],
    ['lz4 -B1024 -BD (dependent blocks, decompressed in JS)', (d) => lz4CliFrame(d, ['-B1024', '-BD'])],
    ['lz4 -12 -B32 -BI -BX (tiny independent blocks)', (d) => lz4CliFrame(d, ['-12', '-B32', '-BI', '-BX'])],
    ['lz4_flex (lz4-napi) with block checksums', (d) => napiFrame(d, { contentChecksum: true, blockChecksums: true })],
  ];
  for (const [name, make] of variants) {
    it(`decodes ${name} to the reference pages`, async () => {
      const ref = await load(3);
      const bytes = await rebuild(3, (p) => make(p.data));
      for (const size of [7, 1 << 20]) {
        const ours = await decodeAll(chunked(bytes, size));
        expect(ours.postApplyChecksum).toBe(ref.postApplyChecksum);
        expect(ours.pages.map((p) => [p.pgno, p.checksum, p.encoding])).toEqual(ref.pages.map((p) => [p.pgno, p.checksum, 'lz4-frame']));
        ours.pages.forEach((page, i) => expect(page.data.equals(ref.pages[i]!.data)).toBe(true));
      }
    });
  }

  it('decodes pages stored uncompressed (incompressible data)', async () => {
    const ref = await load(4);
    const noise = (pgno: number) => Buffer.concat(Array.from({ length: 128 }, (_, i) => createHash('sha256').update(`${pgno}/${i}`).digest()));
    const bytes = writeFramePageLtx(ref.header, ref.pages.map((p) => ({ pgno: p.pgno, data: noise(p.pgno), frame: lz4CliFrame(noise(p.pgno)) })), ref.postApplyChecksum);
    expect(bytes.readUInt32LE(HEADER_SIZE + 6 + 7) >>> 31).toBe(1); // the first block is stored uncompressed
    const ours = await decodeAll(chunked(bytes, 1000));
    ours.pages.forEach((page) => expect(page.data.equals(noise(page.pgno))).toBe(true));
  });

  it('the WebAssembly kernel and the JS fallback agree on frame pages (pages, page checksums, file checksum)', async () => {
    const ref = await load(2);
    const bytes = await rebuild(2, (p, i) => (i % 3 === 0 ? lz4CliFrame(p.data, ['-B1024', '-BD']) : p.frame));
    const wasm = acquireLocalExecutor();
    const js = acquireLocalExecutor({ js: true });
    try {
      const slots = [wasm.take()!, js.take()!];
      for (const slot of slots) {
        const frames = new FramePages(xxh32, 4096, 'x.ltx');
        let p = HEADER_SIZE;
        for (const page of ref.pages) p += frames.take(bytes, p, bytes.byteLength, page.pgno, p, slot);
        expect(slot.frames).toBe(ref.pages.length);
      }
      const [a, b] = slots as [NonNullable<(typeof slots)[0]>, NonNullable<(typeof slots)[0]>];
      expect((await wasm.decode(a, 4096, 99n, undefined)).failedAt).toBe(-1);
      expect((await js.decode(b, 4096, 99n, undefined)).failedAt).toBe(-1);
      expect(a.segment()).toBe(b.segment());
      expect(a.xor()).toBe(b.xor());
      const pages = Buffer.from(wasm.pages(ref.pages.length, 4096));
      expect(pages.equals(Buffer.from(js.pages(ref.pages.length, 4096)))).toBe(true);
      ref.pages.forEach((page, i) => {
        expect(a.checksum(i)).toBe(page.checksum);
        expect(pages.subarray(i * 4096, (i + 1) * 4096).equals(page.data)).toBe(true);
      });
    } finally {
      wasm.close();
      js.close();
    }
  });
});

describe('damaged frame pages: typed errors naming the file, page and offset', () => {
  /** Offset of page `i`'s LZ4 frame in the reference file 3 (4 pages). */
  const frameAt = async (i: number) => (await load(3)).pages[i]!.frameOffset + 6;

  async function flipped(mutate: (bytes: Buffer, frame: number, end: number) => void, page = 1): Promise<{ error: Error; file: string }> {
    const ref = await load(3);
    const bytes = Buffer.from(ref.bytes);
    const p = ref.pages[page]!;
    mutate(bytes, p.frameOffset + 6, p.frameOffset + p.frameSize);
    return failure(bytes);
  }

  const pgnoOf = async (i: number) => (await load(3)).pages[i]!.pgno;

  it('bad magic', async () => {
    const { error, file } = await flipped((b, f) => (b[f]! ^= 0xff));
    expect(error).toBeInstanceOf(CorruptError);
    expect(error.message).toMatch(new RegExp(`^${file}: corrupt LTX page: page ${await pgnoOf(1)}: no LZ4 frame magic \\(found 0x184d22fb, expected 0x184d2204\\), at offset ${await frameAt(1)} of the LZ4 frame at offset ${await frameAt(1)}$`));
  });

  it('header checksum', async () => {
    const { error, file } = await flipped((b, f) => (b[f + 6]! ^= 0x5a));
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as ChecksumMismatchError).kind).toBe('LZ4 header');
    expect(error.message).toMatch(new RegExp(`^${file}: LZ4 header checksum mismatch: stored [0-9a-f]{2}, computed [0-9a-f]{2} \\(page ${await pgnoOf(1)}, offset ${(await frameAt(1)) + 6} of the LZ4 frame at offset ${await frameAt(1)}\\)$`));
  });

  it('content checksum', async () => {
    const { error, file } = await flipped((b, _f, end) => (b[end - 1]! ^= 0x01), 2);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as ChecksumMismatchError).kind).toBe('LZ4 content');
    expect(error.message).toMatch(new RegExp(`^${file}: LZ4 content checksum mismatch: stored [0-9a-f]{8}, computed [0-9a-f]{8} \\(page ${await pgnoOf(2)}, LZ4 frame at offset ${await frameAt(2)}\\)$`));
  });

  it('a damaged compressed byte: the block does not decode, or the content checksum catches it', async () => {
    for (const at of [12, 20, 40]) {
      const { error, file } = await flipped((b, f) => (b[f + at]! ^= 0x10), 0);
      expect([CorruptError, ChecksumMismatchError].some((type) => error instanceof type), String(error)).toBe(true);
      expect(error.message.startsWith(`${file}: `)).toBe(true);
      expect(error.message).toMatch(new RegExp(`page ${await pgnoOf(0)}.*offset ${await frameAt(0)}`));
    }
  });

  it('block checksum', async () => {
    const bytes = await rebuild(3, (p) => lz4CliFrame(p.data, ['-BX']));
    const ref = await decodeAll(chunked(bytes, 1 << 20));
    const frame = ref.pages[1]!.frameOffset + 6;
    const damaged = Buffer.from(bytes);
    damaged[frame + 11 + damaged.readUInt32LE(frame + 7)]! ^= 0x01;
    const { error, file } = await failure(damaged);
    expect(error).toBeInstanceOf(ChecksumMismatchError);
    expect((error as ChecksumMismatchError).kind).toBe('LZ4 block');
    expect(error.message).toMatch(new RegExp(`^${file}: LZ4 block checksum mismatch: stored [0-9a-f]{8}, computed [0-9a-f]{8} \\(page ${ref.pages[1]!.pgno}, offset \\d+ of the LZ4 frame at offset ${frame}\\)$`));
  });

  it('a block bigger than the block maximum, or than a page can need', async () => {
    const big = await flipped((b, f) => b.writeUInt32LE(0x10001, f + 7));
    expect(big.error).toBeInstanceOf(CorruptError);
    expect(big.error.message).toMatch(new RegExp(`page ${await pgnoOf(1)}: block of 65537 bytes exceeds the frame's block maximum of 65536, at offset ${(await frameAt(1)) + 7} of the LZ4 frame`));
    const large = await flipped((b, f) => b.writeUInt32LE(5000, f + 7));
    expect(large.error.message).toMatch(/blocks hold more than 4128 bytes, more than 4096 bytes of content can take/);
    // One byte short: the file is misread from there on (here, the next page header is read
    // from inside the frame); whatever breaks first is reported, as a typed error naming the file.
    const short = await flipped((b, f) => b.writeUInt32LE(b.readUInt32LE(f + 7) - 1, f + 7));
    expect([CorruptError, ChecksumMismatchError].some((type) => short.error instanceof type), String(short.error)).toBe(true);
    expect(short.error.message.startsWith(`${short.file}: `)).toBe(true);
  });

  it('content size other than the page size', async () => {
    const bytes = await rebuild(3, (p, i) => (i === 1 ? lz4CliFrame(p.data.subarray(0, 4000), ['--content-size']) : p.frame));
    const { error } = await failure(bytes);
    expect(error).toBeInstanceOf(CorruptError);
    expect(error.message).toMatch(/declares a content size of 4000 bytes, expected 4096, at offset \d+ of the LZ4 frame at offset \d+/);
  });

  it('decompressed size other than the page size (one block: in the kernel; several: in JS)', async () => {
    const one = await failure(await rebuild(3, (p, i) => (i === 2 ? lz4CliFrame(p.data.subarray(0, 4000)) : p.frame)));
    expect(one.error).toBeInstanceOf(CorruptError);
    expect(one.error.message).toMatch(new RegExp(`page ${await pgnoOf(2)} does not decompress \\(the block of the LZ4 frame at offset ${await frameAt(2)}\\): the block expands to 4000 bytes, expected 4096`));
    const several = await failure(await rebuild(3, (p, i) => (i === 2 ? lz4CliFrame(p.data.subarray(0, 2048), ['-B1024']) : p.frame)));
    expect(several.error).toBeInstanceOf(CorruptError);
    expect(several.error.message).toMatch(new RegExp(`page ${await pgnoOf(2)}: LZ4 frame at offset ${await frameAt(2)} decompresses to 2048 bytes, the page size is 4096`));
    const longer = await failure(await rebuild(3, (p, i) => (i === 2 ? lz4CliFrame(Buffer.concat([p.data, p.data.subarray(0, 100)]), ['-B1024']) : p.frame)));
    expect(longer.error.message).toMatch(/content is longer than 4096 bytes \(block 5\)/);
  });

  it('a dictionary id is refused', async () => {
    const bytes = await rebuild(3, (p, i) => {
      if (i !== 0) return p.frame;
      const descriptor = Buffer.from([p.frame[4]! | 0x01, p.frame[5]!, 0x01, 0x02, 0x03, 0x04]);
      const hc = (xxh32(descriptor) >>> 8) & 0xff;
      return Buffer.concat([p.frame.subarray(0, 4), descriptor, Buffer.from([hc]), p.frame.subarray(7)]);
    });
    const { error } = await failure(bytes);
    expect(error).toBeInstanceOf(CorruptError);
    expect(error.message).toMatch(/page 1: needs LZ4 dictionary 0x04030201; LTX pages are compressed without one, at offset \d+ of the LZ4 frame/);
  });

  it('truncation inside a frame, inside a frame header, and after a page header', async () => {
    const ref = await load(3);
    const last = ref.pages[ref.pages.length - 1]!;
    for (const cut of [last.frameOffset + 6 + 3, last.frameOffset + 6 + 40, last.frameOffset + last.frameSize - 2]) {
      const { error, file } = await failure(ref.bytes.subarray(0, cut));
      expect(error).toBeInstanceOf(CorruptError);
      expect(error.message).toBe(`${file}: corrupt LTX page: truncated: file ends at offset ${cut} inside the LZ4 frame of page ${last.pgno} (page from offset ${last.frameOffset}, at least ${error.message.match(/at least (\d+)/)![1]} bytes)`);
    }
    const { error } = await failure(ref.bytes.subarray(0, last.frameOffset + 3));
    expect(error.message).toMatch(/truncated: file ends at offset \d+ while reading page header/);
  });

  it('a file that mixes frame and block pages is refused, either way round', async () => {
    const ref = await load(3);
    const blocks = await readFile(blockVector(3));
    const blockDecoded = await decodeAll(blockVector(3));
    const blockPayload = (i: number) => {
      const p = blockDecoded.pages[i]!;
      return blocks.subarray(p.frameOffset + 6, p.frameOffset + p.frameSize);
    };
    const frameThenBlock = writeFramePageLtx(ref.header, ref.pages.map((p, i) => ({ pgno: p.pgno, data: p.data, frame: i === 2 ? blockPayload(i) : ref.frames[i]!, flags: i === 2 ? 1 : 0 })), ref.postApplyChecksum);
    const a = await failure(frameThenBlock);
    expect(a.error).toBeInstanceOf(CorruptError);
    expect(a.error.message).toMatch(new RegExp(`page ${ref.pages[2]!.pgno} at offset \\d+ is an LZ4 block page \\(flags 0x0001\\) after LZ4 frame pages; a file holds one kind`));
    const blockThenFrame = writeFramePageLtx(ref.header, ref.pages.map((p, i) => ({ pgno: p.pgno, data: p.data, frame: i === 1 ? ref.frames[i]! : blockPayload(i), flags: i === 1 ? 0 : 1 })), ref.postApplyChecksum);
    // Our writer gets block pages right too: without the mixed page the same file decodes.
    await expect(verifyLtx(chunked(writeFramePageLtx(ref.header, ref.pages.map((p, i) => ({ pgno: p.pgno, data: p.data, frame: blockPayload(i), flags: 1 })), ref.postApplyChecksum), 4096))).resolves.toMatchObject({ pageEncoding: 'lz4-block' });
    const b = await failure(blockThenFrame);
    expect(b.error.message).toMatch(new RegExp(`page ${ref.pages[1]!.pgno} at offset \\d+ is an LZ4 frame page \\(flags 0x0000\\) after LZ4 block pages; a file holds one kind`));
  });

  it('other page flags are refused naming both kinds', async () => {
    const { error } = await flipped((b, f) => (b[f - 1] = 0x02));
    expect(error.message).toMatch(/page \d+ has flags 0x0002; LTX v3 pages have 0x0001 \(LZ4 block with size\) or 0x0000 \(LZ4 frame\)/);
  });

  it('a damaged frame page stops an apply, the error naming the file', async () => {
    const ref = await load(1);
    const damaged = Buffer.from(ref.bytes);
    damaged[damaged.byteLength - 200]! ^= 0x01;
    const file = join(work, 'damaged-snapshot.ltx');
    await writeFile(file, damaged);
    const applier = new LtxApplier(join(work, 'damaged.db'));
    await expect(applier.apply(createReadStream(file), file)).rejects.toThrow(new RegExp(`^${file}: `));
    await applier.close({ sync: false });
  });
});
