/**
 * The LZ4 *frame* format (the container `lz4` writes, and in which Litestream v0.5.0 –
 * v0.5.15 stored each LTX page), read from the format description:
 *
 *   magic 04 22 4D 18 · FLG · BD · [content size, u64 LE] · [dictionary id, u32 LE] · HC
 *   blocks: u32 LE size (high bit: stored uncompressed) · data · [xxHash32 of the data]
 *   end mark (a size of 0) · [xxHash32 of the content, u32 LE]
 *
 * FLG: version (bits 7–6, must be 01), block independence (5), block checksums (4), content
 * size present (3), content checksum present (2), reserved (1), dictionary id present (0).
 * BD: block maximum size (bits 6–4: 4 → 64 KiB, 5 → 256 KiB, 6 → 1 MiB, 7 → 4 MiB), other bits
 * reserved. HC is the second byte of the xxHash32 of FLG through the optional fields.
 *
 * `Lz4FrameScanner.scan` checks the structure, the header checksum and the block checksums
 * of a frame held in memory and records where its blocks are, without decompressing;
 * the content checksum needs the decompressed bytes, so the caller checks it.
 * `decodeFrameContent` decompresses the blocks in JS (for the frames not handed to the
 * WebAssembly kernel as one block).
 */
import { decodeBlockInto } from './js-block.ts';
import { describeLz4Result, LZ4_ERR_OVERFLOW } from './lz4-wasm-decoder.ts';
import type { Xxh32 } from './xxh32.ts';

/** The frame magic number (stored little-endian: 04 22 4D 18). */
export const LZ4_FRAME_MAGIC = 0x184d2204;
/** Bytes of the smallest frame header: magic, FLG, BD, HC. */
export const LZ4_FRAME_MIN_HEADER = 7;

const FLG_VERSION_SHIFT = 6;
const FLG_BLOCK_INDEPENDENT = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICTIONARY = 0x01;
const BD_RESERVED = 0x8f;
const BLOCK_UNCOMPRESSED = 0x8000_0000;

/** A checksum the frame carries that does not match its bytes. */
export interface Lz4ChecksumFault {
  readonly kind: 'header' | 'block';
  readonly stored: number;
  readonly computed: number;
}

/** A frame that breaks the format, or whose header or block checksum does not match. */
export class Lz4FrameError extends Error {
  /** Offset of the faulty field from the start of the frame. */
  readonly at: number;
  /** Set for a checksum mismatch. */
  readonly checksum: Lz4ChecksumFault | undefined;
  constructor(at: number, message: string, checksum?: Lz4ChecksumFault) {
    super(message);
    this.name = 'Lz4FrameError';
    this.at = at;
    this.checksum = checksum;
  }
}

/** What a frame must fit: the content size it must have and the most block bytes it may hold. */
export interface Lz4FrameLimits {
  /** Decompressed size the frame must have (a declared content size must equal it). */
  readonly contentSize: number;
  /** Most bytes its data blocks may hold together. */
  readonly maxBlockBytes: number;
}

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;

/**
 * Reads frames one after another. After `scan` returned true its fields describe the frame;
 * they are overwritten by the next call (nothing is allocated per frame).
 */
export class Lz4FrameScanner {
  /** Offset of the frame in the buffer given to `scan`. */
  start = 0;
  /** Byte length of the whole frame, end mark and content checksum included. */
  length = 0;
  /** When `scan` returned false: bytes from `start` needed before it can go on. */
  need = 0;
  /** Blocks may not refer to earlier blocks (FLG bit 5). */
  independent = true;
  /** The block maximum size (BD). */
  blockMax = 0;
  /** The stored content checksum, or -1 when the frame carries none. */
  contentChecksum = -1;
  /** Data blocks, and for each its data's offset in the buffer, its size and whether it is LZ4-compressed. */
  blocks = 0;
  readonly blockStart: number[] = [];
  readonly blockSize: number[] = [];
  readonly blockCompressed: boolean[] = [];
  private readonly xxh32: Xxh32;
  /** The last frame descriptor (FLG … optional fields, then HC) whose header checksum matched. */
  private readonly verified = new Uint8Array(15);
  private verifiedLength = 0;

  constructor(xxh32: Xxh32) {
    this.xxh32 = xxh32;
  }

  /**
   * Scans the frame at `bytes[start]`, of which the bytes before `end` are available. Returns
   * true when the whole frame is there and sound (then see the fields), false when more bytes
   * are needed (`need`). Throws `Lz4FrameError` for a frame that breaks the format, does not
   * fit `limits`, needs a dictionary, or whose header or block checksum does not match.
   */
  scan(bytes: Uint8Array, start: number, end: number, limits: Lz4FrameLimits): boolean {
    this.start = start;
    if (end - start < LZ4_FRAME_MIN_HEADER) return this.needs(LZ4_FRAME_MIN_HEADER);
    const magic = u32le(bytes, start);
    if (magic !== LZ4_FRAME_MAGIC) throw new Lz4FrameError(0, `no LZ4 frame magic (found ${hex(magic, 8)}, expected ${hex(LZ4_FRAME_MAGIC, 8)})`);
    const flg = bytes[start + 4]!;
    const bd = bytes[start + 5]!;
    const hasContentSize = (flg & FLG_CONTENT_SIZE) !== 0;
    const hasDictionary = (flg & FLG_DICTIONARY) !== 0;
    // Offset of HC: the descriptor (FLG, BD, optional fields) runs from 4 to it.
    const hc = 6 + (hasContentSize ? 8 : 0) + (hasDictionary ? 4 : 0);
    if (end - start < hc + 1) return this.needs(hc + 1);
    this.checkHeaderChecksum(bytes, start, hc);
    const version = flg >>> FLG_VERSION_SHIFT;
    if (version !== 1) throw new Lz4FrameError(4, `unsupported LZ4 frame version ${version} (FLG ${hex(flg, 2)}; only version 1 exists)`);
    if ((flg & FLG_RESERVED) !== 0) throw new Lz4FrameError(4, `reserved FLG bit set (FLG ${hex(flg, 2)})`);
    if ((bd & BD_RESERVED) !== 0) throw new Lz4FrameError(5, `reserved BD bits set (BD ${hex(bd, 2)})`);
    const blockMaxId = (bd >>> 4) & 7;
    if (blockMaxId < 4) throw new Lz4FrameError(5, `invalid block maximum size code ${blockMaxId} (BD ${hex(bd, 2)}; valid: 4–7)`);
    this.blockMax = 1 << (8 + 2 * blockMaxId);
    if (hasContentSize) {
      const low = u32le(bytes, start + 6);
      const high = u32le(bytes, start + 10);
      if (high !== 0 || low !== limits.contentSize) {
        const declared = high === 0 ? String(low) : (BigInt(high) * 2n ** 32n + BigInt(low)).toString();
        throw new Lz4FrameError(6, `declares a content size of ${declared} bytes, expected ${limits.contentSize}`);
      }
    }
    if (hasDictionary) {
      const at = hasContentSize ? 14 : 6;
      throw new Lz4FrameError(at, `needs LZ4 dictionary ${hex(u32le(bytes, start + at), 8)}; LTX pages are compressed without one`);
    }
    this.independent = (flg & FLG_BLOCK_INDEPENDENT) !== 0;
    const blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;
    let p = start + hc + 1;
    let total = 0;
    let blocks = 0;
    for (;;) {
      if (end - p < 4) return this.needs(p - start + 4);
      const word = u32le(bytes, p);
      const size = word & ~BLOCK_UNCOMPRESSED;
      if (size === 0) {
        p += 4;
        break;
      }
      if (size > this.blockMax) throw new Lz4FrameError(p - start, `block of ${size} bytes exceeds the frame's block maximum of ${this.blockMax}`);
      total += size;
      if (total > limits.maxBlockBytes) {
        throw new Lz4FrameError(p - start, `blocks hold more than ${limits.maxBlockBytes} bytes, more than ${limits.contentSize} bytes of content can take`);
      }
      const data = p + 4;
      const after = data + size + (blockChecksums ? 4 : 0);
      if (after > end) return this.needs(after - start);
      if (blockChecksums) {
        const stored = u32le(bytes, data + size);
        const computed = this.xxh32(bytes.subarray(data, data + size));
        if (stored !== computed) {
          throw new Lz4FrameError(data + size - start, `block ${blocks + 1} checksum mismatch`, { kind: 'block', stored, computed });
        }
      }
      this.blockStart[blocks] = data;
      this.blockSize[blocks] = size;
      this.blockCompressed[blocks] = (word & BLOCK_UNCOMPRESSED) === 0;
      blocks += 1;
      p = after;
    }
    this.blocks = blocks;
    if ((flg & FLG_CONTENT_CHECKSUM) !== 0) {
      if (end - p < 4) return this.needs(p - start + 4);
      this.contentChecksum = u32le(bytes, p);
      p += 4;
    } else {
      this.contentChecksum = -1;
    }
    this.length = p - start;
    return true;
  }

  /**
   * Checks HC against the descriptor `bytes[start + 4, start + hc)`. Successive pages' frames
   * usually have identical descriptors, so the last one that matched is remembered and an
   * identical descriptor with the identical HC byte is not hashed again.
   */
  private checkHeaderChecksum(bytes: Uint8Array, start: number, hc: number): void {
    const length = hc - 3; // descriptor and HC
    if (length === this.verifiedLength) {
      let same = true;
      for (let i = 0; i < length && same; i++) same = bytes[start + 4 + i] === this.verified[i];
      if (same) return;
    }
    const stored = bytes[start + hc]!;
    const computed = (this.xxh32(bytes.subarray(start + 4, start + hc)) >>> 8) & 0xff;
    if (stored !== computed) throw new Lz4FrameError(hc, 'header checksum mismatch', { kind: 'header', stored, computed });
    this.verified.set(bytes.subarray(start + 4, start + hc + 1));
    this.verifiedLength = length;
  }

  private needs(n: number): false {
    this.need = n;
    return false;
  }
}

/**
 * Decompresses the blocks of the frame `frame` last scanned in `bytes` into `out`, in JS.
 * Returns the content size; throws `Lz4FrameError` for a block that does not decode or
 * content longer than `out`.
 */
export function decodeFrameContent(bytes: Uint8Array, frame: Lz4FrameScanner, out: Uint8Array): number {
  let op = 0;
  for (let i = 0; i < frame.blocks; i++) {
    const start = frame.blockStart[i]!;
    const size = frame.blockSize[i]!;
    const at = start - 4 - frame.start;
    if (!frame.blockCompressed[i]) {
      if (size > out.byteLength - op) throw new Lz4FrameError(at, `content is longer than ${out.byteLength} bytes (block ${i + 1}, stored uncompressed)`);
      out.set(bytes.subarray(start, start + size), op);
      op += size;
      continue;
    }
    // Independent blocks may not refer to the bytes before them; dependent ones may reach the whole content.
    const end = decodeBlockInto(bytes, start, start + size, out, op, out.byteLength, frame.independent ? op : 0);
    if (end === LZ4_ERR_OVERFLOW) throw new Lz4FrameError(at, `content is longer than ${out.byteLength} bytes (block ${i + 1})`);
    if (end < 0) throw new Lz4FrameError(at, `block ${i + 1} does not decompress: ${describeLz4Result(end, out.byteLength - op)}`);
    op = end;
  }
  return op;
}
