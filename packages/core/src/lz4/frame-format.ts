/**
 * The rules of the LZ4 *frame* format (the container `lz4` writes), read from the format
 * description, in one place for both frame readers: `frame.ts` (the LTX pages Litestream
 * v0.5.0 – v0.5.15 stored as frames, scanned in memory) and `frame-stream.ts` (Litestream v0.3
 * snapshots and WAL segments, decoded as a stream).
 *
 *   magic 04 22 4D 18 · FLG · BD · [content size, u64 LE] · [dictionary id, u32 LE] · HC
 *   blocks: u32 LE size (high bit: stored uncompressed) · data · [xxHash32 of the data]
 *   end mark (a size of 0) · [xxHash32 of the content, u32 LE]
 *
 * FLG: version (bits 7–6, must be 01), block independence (5), block checksums (4), content
 * size present (3), content checksum present (2), reserved (1), dictionary id present (0).
 * BD: block maximum size (bits 6–4: 4 → 64 KiB, 5 → 256 KiB, 6 → 1 MiB, 7 → 4 MiB), other bits
 * reserved. HC is the second byte of the xxHash32 of FLG through the optional fields.
 */
import { LitestreamError } from '../ltx/errors.ts';
import type { Xxh32 } from './xxh32.ts';

/** The frame magic number (stored little-endian: 04 22 4D 18). */
export const LZ4_FRAME_MAGIC = 0x184d2204;
/** Bytes of the smallest frame header: magic, FLG, BD, HC. */
export const LZ4_FRAME_MIN_HEADER = 7;
/** Skippable frames have magic numbers 0x184D2A50 – 0x184D2A5F, then a u32 LE size and that many bytes. */
export const isSkippableFrameMagic = (magic: number): boolean => (magic & 0xfffffff0) >>> 0 === 0x184d2a50;

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
  readonly kind: 'header' | 'block' | 'content';
  readonly stored: number;
  readonly computed: number;
}

/**
 * A frame that breaks the format, or whose header, block or content checksum does not match.
 * The message says what failed; the caller names the file or object.
 */
export class Lz4FrameError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_LZ4_FRAME';
  /**
   * Offset of the faulty field: from the start of the frame, or for a `Lz4FrameStreamError`
   * from the start of the compressed data.
   */
  readonly at: number;
  /** Set for a checksum mismatch. */
  readonly checksum: Lz4ChecksumFault | undefined;
  constructor(at: number, message: string, checksum?: Lz4ChecksumFault) {
    super(message);
    this.at = at;
    this.checksum = checksum;
  }
}

/** Reads a u32 little-endian. */
export function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}

/** `n` in hex with `0x` and at least `digits` digits. */
export const hex = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, '0')}`;

/** The error for a stored checksum that differs from the computed one; `block` numbers a block checksum's block from 1. */
export function checksumMismatch(kind: Lz4ChecksumFault['kind'], at: number, stored: number, computed: number, block?: number): Lz4FrameError {
  const digits = kind === 'header' ? 2 : 8;
  const which = block === undefined ? '' : ` (block ${block})`;
  return new Lz4FrameError(at, `${kind} checksum mismatch: stored ${hex(stored, digits)}, computed ${hex(computed, digits)}${which}`, { kind, stored, computed });
}

/** Bytes of a frame header (magic to HC) whose FLG byte is `flg`: the optional fields it announces included. */
export function lz4FrameHeaderLength(flg: number): number {
  return LZ4_FRAME_MIN_HEADER + ((flg & FLG_CONTENT_SIZE) !== 0 ? 8 : 0) + ((flg & FLG_DICTIONARY) !== 0 ? 4 : 0);
}

/** Whether a block whose size word is `word` holds LZ4-compressed data (else its bytes are stored as they are). */
export const isCompressedBlock = (word: number): boolean => (word & BLOCK_UNCOMPRESSED) === 0;

/**
 * A frame's header: magic, frame descriptor and header checksum. After `read` returned true
 * its fields describe the frame; they are overwritten by the next call (nothing is allocated
 * per frame).
 */
export class Lz4FrameHeader {
  /** Bytes of the header, magic to HC. */
  length = 0;
  /** When `read` returned false: bytes from the frame's start needed before it can go on. */
  need = 0;
  /** Blocks may not refer to earlier blocks (FLG bit 5). */
  independent = true;
  /** Each block is followed by the xxHash32 of its data (FLG bit 4). */
  blockChecksums = false;
  /** The frame ends with the xxHash32 of its content (FLG bit 2). */
  contentChecksum = false;
  /** The block maximum size (BD). */
  blockMax = 0;
  /** The frame declares its content size (FLG bit 3): then its low and high 32 bits. */
  hasContentSize = false;
  contentSizeLow = 0;
  contentSizeHigh = 0;
  private readonly xxh32: Xxh32;
  private readonly reads: string;
  /** The last frame descriptor (FLG … optional fields, then HC) whose header checksum matched. */
  private readonly verified = new Uint8Array(15);
  private verifiedLength = 0;

  /** `reads` names what the frames hold, for the refusal of a dictionary (`LTX pages`). */
  constructor(xxh32: Xxh32, reads: string) {
    this.xxh32 = xxh32;
    this.reads = reads;
  }

  /** The declared content size (when `hasContentSize`). */
  get contentSize(): bigint {
    return BigInt(this.contentSizeHigh) * 2n ** 32n + BigInt(this.contentSizeLow);
  }

  /**
   * Reads the header of the frame at `bytes[start]`, of which the bytes before `end` are
   * available. Returns true when it is all there and sound, false when more bytes are needed
   * (`need`). Throws `Lz4FrameError` for a bad magic number, version or reserved bit, an
   * invalid block maximum size, a header checksum that does not match, or a dictionary id
   * (the frame cannot be read without that dictionary).
   */
  read(bytes: Uint8Array, start: number, end: number): boolean {
    if (end - start < LZ4_FRAME_MIN_HEADER) return this.needs(LZ4_FRAME_MIN_HEADER);
    const magic = u32le(bytes, start);
    if (magic !== LZ4_FRAME_MAGIC) throw new Lz4FrameError(0, `no LZ4 frame magic (found ${hex(magic, 8)}, expected ${hex(LZ4_FRAME_MAGIC, 8)})`);
    const flg = bytes[start + 4]!;
    const bd = bytes[start + 5]!;
    const hasContentSize = (flg & FLG_CONTENT_SIZE) !== 0;
    const hasDictionary = (flg & FLG_DICTIONARY) !== 0;
    // Offset of HC: the descriptor (FLG, BD, optional fields) runs from 4 to it.
    const hc = lz4FrameHeaderLength(flg) - 1;
    if (end - start < hc + 1) return this.needs(hc + 1);
    const version = flg >>> FLG_VERSION_SHIFT;
    if (version !== 1) throw new Lz4FrameError(4, `unsupported LZ4 frame version ${version} (FLG ${hex(flg, 2)}; only version 1 exists)`);
    if ((flg & FLG_RESERVED) !== 0) throw new Lz4FrameError(4, `reserved FLG bit set (FLG ${hex(flg, 2)})`);
    if ((bd & BD_RESERVED) !== 0) throw new Lz4FrameError(5, `reserved BD bits set (BD ${hex(bd, 2)})`);
    const blockMaxId = (bd >>> 4) & 7;
    if (blockMaxId < 4) throw new Lz4FrameError(5, `invalid block maximum size code ${blockMaxId} (BD ${hex(bd, 2)}; valid: 4–7)`);
    this.checkHeaderChecksum(bytes, start, hc);
    if (hasDictionary) {
      const at = hasContentSize ? 14 : 6;
      throw new Lz4FrameError(at, `needs LZ4 dictionary ${hex(u32le(bytes, start + at), 8)}; ${this.reads} are compressed without one`);
    }
    this.blockMax = 1 << (8 + 2 * blockMaxId);
    this.independent = (flg & FLG_BLOCK_INDEPENDENT) !== 0;
    this.blockChecksums = (flg & FLG_BLOCK_CHECKSUM) !== 0;
    this.contentChecksum = (flg & FLG_CONTENT_CHECKSUM) !== 0;
    this.hasContentSize = hasContentSize;
    if (hasContentSize) {
      this.contentSizeLow = u32le(bytes, start + 6);
      this.contentSizeHigh = u32le(bytes, start + 10);
    }
    this.length = hc + 1;
    return true;
  }

  /**
   * The data size of the block whose size word is `word`, found `at` bytes into the frame: 0
   * for the end mark (the size bits are 0). Throws `Lz4FrameError` for a block larger than
   * the frame's block maximum.
   */
  blockSize(word: number, at: number): number {
    const size = word & ~BLOCK_UNCOMPRESSED;
    if (size > this.blockMax) throw new Lz4FrameError(at, `block of ${size} bytes exceeds the frame's block maximum of ${this.blockMax}`);
    return size;
  }

  /**
   * Checks HC against the descriptor `bytes[start + 4, start + hc)`. Successive frames
   * usually have identical descriptors (an LTX file's pages), so the last one that matched is
   * remembered and an identical descriptor with the identical HC byte is not hashed again.
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
    if (stored !== computed) throw checksumMismatch('header', hc, stored, computed);
    this.verified.set(bytes.subarray(start + 4, start + hc + 1));
    this.verifiedLength = length;
  }

  private needs(n: number): false {
    this.need = n;
    return false;
  }
}
