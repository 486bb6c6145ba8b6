import { describe, expect, it } from 'vitest';
import { lz4CliFrame, napiFrame } from '../test-support/frame-ltx.ts';
import { compressBlock, decompressBlock } from './block.ts';
import { compressBound } from './bounds.ts';
import { decodeFrameContent, Lz4FrameScanner } from './frame.ts';
import { Lz4FrameError } from './frame-format.ts';
import { decodeBlockInto, literalBlockSize, writeLiteralBlock } from './js-block.ts';
import { LZ4_ERR_OFFSET, LZ4_ERR_TRUNCATED } from './lz4-wasm-decoder.ts';
import { loadXxh32 } from './xxh32.ts';

const xxh32 = await loadXxh32();
const jsXxh32 = await loadXxh32({ js: true });

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A page that compresses: repeated text with a few varying bytes. */
function textPage(size: number, seed: number): Buffer {
  const page = Buffer.alloc(size);
  const random = prng(seed);
  for (let i = 0; i < size; i++) page[i] = random() < 0.1 ? Math.floor(random() * 256) : 'row-data '.charCodeAt(i % 9);
  return page;
}

function noisePage(size: number, seed: number): Buffer {
  const random = prng(seed);
  return Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256)));
}

const limits = (size: number) => ({ contentSize: size, maxBlockBytes: compressBound(size) });

/** Scans a whole frame and decompresses it in JS. */
function readFrame(frame: Uint8Array, size: number): { scanner: Lz4FrameScanner; content: Buffer } {
  const scanner = new Lz4FrameScanner(xxh32);
  expect(scanner.scan(frame, 0, frame.byteLength, limits(size))).toBe(true);
  expect(scanner.length).toBe(frame.byteLength);
  const out = Buffer.alloc(size);
  expect(decodeFrameContent(frame, scanner, out)).toBe(size);
  return { scanner, content: out };
}

function faultOf(frame: Uint8Array, size: number): Lz4FrameError {
  const scanner = new Lz4FrameScanner(xxh32);
  try {
    if (scanner.scan(frame, 0, frame.byteLength, limits(size))) decodeFrameContent(frame, scanner, Buffer.alloc(size));
  } catch (error) {
    expect(error).toBeInstanceOf(Lz4FrameError);
    return error as Lz4FrameError;
  }
  throw new Error('frame was accepted');
}

/** Sets FLG (and the optional fields that follow BD) of a frame and recomputes its header checksum. */
function withDescriptor(frame: Uint8Array, flg: number, bd: number, optional: Uint8Array = new Uint8Array(0)): Buffer {
  const oldFlg = frame[4]!;
  const oldOptional = ((oldFlg & 0x08) !== 0 ? 8 : 0) + ((oldFlg & 0x01) !== 0 ? 4 : 0);
  const descriptor = Buffer.concat([Buffer.from([flg, bd]), optional]);
  const hc = (xxh32(descriptor) >>> 8) & 0xff;
  return Buffer.concat([frame.subarray(0, 4), descriptor, Buffer.from([hc]), frame.subarray(7 + oldOptional)]);
}

describe('xxHash32', () => {
  it('gives the published values, the same from xxhash-wasm and js-xxhash', () => {
    // Known answers of XXH32 with seed 0.
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('a'))).toBe(0x550d7456);
    expect(xxh32(Buffer.from('abc'))).toBe(0x32d153ff);
    const random = prng(7);
    for (const length of [0, 1, 3, 4, 15, 16, 17, 100, 4096, 65536]) {
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
      // A view at an odd offset, as the decoder hands it (a page inside a batch).
      const view = Buffer.concat([Buffer.from([1]), bytes]).subarray(1);
      expect(jsXxh32(view), `length ${length}`).toBe(xxh32(view));
    }
  });
});

describe('LZ4 frames made by other encoders', () => {
  const page = textPage(4096, 1);
  const cases: Array<[string, () => Buffer, Partial<{ independent: boolean; blocks: number; checksum: boolean; compressed: boolean }>]> = [
    ['lz4 (defaults, as Litestream wrote them)', () => lz4CliFrame(page), { independent: true, blocks: 1, checksum: true, compressed: true }],
    ['lz4 -BX --content-size (block checksums, content size)', () => lz4CliFrame(page, ['-BX', '--content-size']), { blocks: 1, checksum: true }],
    ['lz4 --no-frame-crc (no content checksum)', () => lz4CliFrame(page, ['--no-frame-crc']), { blocks: 1, checksum: false }],
    ['lz4 -B1024 -BD (four dependent blocks)', () => lz4CliFrame(page, ['-B1024', '-BD']), { independent: false, blocks: 4 }],
    ['lz4 -B1024 -BI -BX (four independent blocks with checksums)', () => lz4CliFrame(page, ['-B1024', '-BI', '-BX']), { independent: true, blocks: 4 }],
    ['lz4 -12 -B32 -BD (many tiny dependent blocks, high compression)', () => lz4CliFrame(page, ['-12', '-B32', '-BD']), { independent: false }],
    ['lz4 of incompressible bytes (one uncompressed block)', () => lz4CliFrame(noisePage(4096, 2)), { blocks: 1, compressed: false }],
    ['lz4_flex via lz4-napi (content and block checksums)', () => napiFrame(page, { contentChecksum: true, blockChecksums: true }), { blocks: 1, checksum: true }],
  ];
  for (const [name, make, expected] of cases) {
    it(`reads ${name}`, () => {
      const frame = make();
      const source = name.includes('incompressible') ? noisePage(4096, 2) : page;
      const { scanner, content } = readFrame(frame, 4096);
      expect(content.equals(source)).toBe(true);
      if (expected.independent !== undefined) expect(scanner.independent).toBe(expected.independent);
      if (expected.blocks !== undefined) expect(scanner.blocks).toBe(expected.blocks);
      if (expected.compressed !== undefined) expect(scanner.blockCompressed[0]).toBe(expected.compressed);
      if (expected.checksum !== undefined) expect(scanner.contentChecksum >= 0).toBe(expected.checksum);
      if (scanner.contentChecksum >= 0) expect(scanner.contentChecksum).toBe(xxh32(source));
    });
  }

  it('reports how many bytes it needs when the frame is cut anywhere', () => {
    const frame = lz4CliFrame(page, ['-B1024', '-BX']);
    const scanner = new Lz4FrameScanner(xxh32);
    for (let end = 0; end < frame.byteLength; end++) {
      expect(scanner.scan(frame, 0, end, limits(4096)), `cut at ${end}`).toBe(false);
      expect(scanner.need).toBeGreaterThan(end);
      expect(scanner.need).toBeLessThanOrEqual(frame.byteLength);
    }
    expect(scanner.scan(frame, 0, frame.byteLength, limits(4096))).toBe(true);
  });
});

describe('LZ4 frame faults', () => {
  const page = textPage(4096, 3);
  const plain = lz4CliFrame(page); // magic, FLG 0x64, BD 0x40, HC, one block, end mark, content checksum

  it('bad magic', () => {
    const bad = Buffer.from(plain);
    bad[1]! ^= 0xff;
    const fault = faultOf(bad, 4096);
    expect(fault.at).toBe(0);
    expect(fault.message).toMatch(/no LZ4 frame magic \(found 0x184ddd04, expected 0x184d2204\)/);
  });

  it('header checksum', () => {
    const bad = Buffer.from(plain);
    bad[6]! ^= 0x01;
    const fault = faultOf(bad, 4096);
    expect(fault.checksum).toMatchObject({ kind: 'header', stored: plain[6]! ^ 0x01, computed: plain[6] });
    expect(fault.at).toBe(6);
    // A changed descriptor byte is caught by the header checksum too.
    const flg = Buffer.from(plain);
    flg[4]! |= 0x10;
    expect(faultOf(flg, 4096).checksum?.kind).toBe('header');
  });

  it('version, reserved bits and block maximum size code (with a correct header checksum)', () => {
    expect(faultOf(withDescriptor(plain, 0xa4, 0x40), 4096).message).toMatch(/unsupported LZ4 frame version 2/);
    expect(faultOf(withDescriptor(plain, 0x66, 0x40), 4096).message).toMatch(/reserved FLG bit/);
    expect(faultOf(withDescriptor(plain, 0x64, 0x41), 4096).message).toMatch(/reserved BD bits/);
    expect(faultOf(withDescriptor(plain, 0x64, 0x30), 4096).message).toMatch(/invalid block maximum size code 3/);
  });

  it('a dictionary id is refused', () => {
    const fault = faultOf(withDescriptor(plain, 0x65, 0x40, Buffer.from([0x78, 0x56, 0x34, 0x12])), 4096);
    expect(fault.message).toMatch(/needs LZ4 dictionary 0x12345678/);
    expect(fault.at).toBe(6);
  });

  it('a content size other than the page size', () => {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(4000n);
    const fault = faultOf(withDescriptor(plain, 0x6c, 0x40, size), 4096);
    expect(fault.message).toMatch(/declares a content size of 4000 bytes, expected 4096/);
    size.writeBigUInt64LE(4096n + (1n << 32n));
    expect(faultOf(withDescriptor(plain, 0x6c, 0x40, size), 4096).message).toMatch(/content size of 4294971392 bytes/);
  });

  it('a block bigger than the block maximum, or than a page can need', () => {
    const bad = Buffer.from(plain);
    bad.writeUInt32LE(65537, 7);
    const fault = faultOf(bad, 4096);
    expect(fault.message).toMatch(/block of 65537 bytes exceeds the frame's block maximum of 65536/);
    expect(fault.at).toBe(7);
    bad.writeUInt32LE(5000, 7);
    expect(faultOf(bad, 4096).message).toMatch(/blocks hold more than 4128 bytes/);
  });

  it('block checksum', () => {
    const frame = lz4CliFrame(page, ['-BX']);
    const size = frame.readUInt32LE(7);
    const bad = Buffer.from(frame);
    bad[11 + size]! ^= 0x01; // the stored checksum after the block
    const fault = faultOf(bad, 4096);
    expect(fault.checksum).toMatchObject({ kind: 'block', stored: frame.readUInt32LE(11 + size) ^ 0x01 });
    expect(fault.at).toBe(11 + size);
    const data = Buffer.from(frame);
    data[20]! ^= 0x40; // inside the block
    expect(faultOf(data, 4096).checksum?.kind).toBe('block');
  });

  it('content that does not fill, or overflows, the page', () => {
    // Shorter content is not a frame fault: the caller compares the size with the page's.
    const half = lz4CliFrame(page.subarray(0, 2048), ['-B1024']);
    const scanner = new Lz4FrameScanner(xxh32);
    expect(scanner.scan(half, 0, half.byteLength, limits(4096))).toBe(true);
    expect(decodeFrameContent(half, scanner, Buffer.alloc(4096))).toBe(2048);
    // Longer content: the block that would write past the page is refused.
    const long = lz4CliFrame(textPage(5000, 5), ['-B1024']);
    expect(faultOf(long, 4096).message).toMatch(/content is longer than 4096 bytes \(block 5\)/);
    const longRaw = lz4CliFrame(noisePage(5000, 4), ['-B1024']);
    expect(faultOf(longRaw, 4096).message).toMatch(/blocks hold more than 4128 bytes/);
  });

  it('a match that reaches before its block is refused when blocks are independent, followed when they are not', () => {
    const first = compressBlock(page.subarray(0, 2048));
    // 0 literals, a 4-byte match 16 bytes back (into the first block), then the literal 'A'.
    const second = Buffer.from([0x00, 0x10, 0x00, 0x10, 0x41]);
    const independent = buildFrame(0x60, [first, second]);
    expect(faultOf(independent, 4096).message).toMatch(/block 2 does not decompress: a match offset is zero or points before the start/);
    const dependent = buildFrame(0x40, [first, second]);
    const scanner = new Lz4FrameScanner(xxh32);
    expect(scanner.scan(dependent, 0, dependent.byteLength, limits(4096))).toBe(true);
    const out = Buffer.alloc(4096);
    expect(decodeFrameContent(dependent, scanner, out)).toBe(2053);
    expect(out.subarray(2048, 2052).equals(page.subarray(2032, 2036))).toBe(true);
    expect(out[2052]).toBe(0x41);
  });
});

/** A frame of the given compressed blocks (FLG without optional fields, 64 KiB blocks). */
function buildFrame(flg: number, blocks: readonly Buffer[]): Buffer {
  const descriptor = Buffer.from([flg, 0x40]);
  const head = Buffer.concat([u32(0x184d2204), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])]);
  return Buffer.concat([head, ...blocks.flatMap((b) => [u32(b.byteLength), b]), u32(0)]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

describe('JS LZ4 block helpers', () => {
  it('a literals-only block decodes, with lz4 itself, to its input, within its bound', () => {
    for (const size of [1, 14, 15, 16, 269, 270, 271, 512, 4096, 65536]) {
      const data = noisePage(size, size);
      const block = Buffer.alloc(literalBlockSize(size));
      expect(writeLiteralBlock(data, block, 0)).toBe(block.byteLength);
      expect(block.byteLength).toBeLessThanOrEqual(compressBound(size));
      expect(decompressBlock(block, size).equals(data), `size ${size}`).toBe(true);
    }
  });

  it('decodes the blocks lz4 writes, and refuses damaged ones', () => {
    const page = textPage(4096, 9);
    const block = compressBlock(page);
    const out = Buffer.alloc(4096);
    expect(decodeBlockInto(block, 0, block.byteLength, out, 0, 4096, 0)).toBe(4096);
    expect(out.equals(page)).toBe(true);
    expect(decodeBlockInto(block, 0, block.byteLength - 3, out, 0, 4096, 0)).toBe(LZ4_ERR_TRUNCATED);
    // Decoded at 100 with the floor at 100, as an independent block is: its matches stay inside.
    const shifted = Buffer.alloc(4196);
    expect(decodeBlockInto(block, 0, block.byteLength, shifted, 100, 4196, 100)).toBe(4196);
    expect(shifted.subarray(100).equals(page)).toBe(true);
    // A match of offset 0 is refused.
    expect(decodeBlockInto(Buffer.from([0x10, 0x41, 0x00, 0x00, 0x00]), 0, 5, out, 0, 4096, 0)).toBe(LZ4_ERR_OFFSET);
  });
});
