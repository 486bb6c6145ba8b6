/**
 * LZ4 frames held in memory, as Litestream v0.5.0 – v0.5.15 stored each LTX page: the format's
 * rules are in `frame-format.ts`.
 *
 * `Lz4FrameScanner.scan` checks the structure, the header checksum and the block checksums
 * of a frame held in memory and records where its blocks are, without decompressing;
 * the content checksum needs the decompressed bytes, so the caller checks it.
 * `decodeFrameContent` decompresses the blocks in JS (for the frames not handed to the
 * WebAssembly kernel as one block).
 */
import { checksumMismatch, isCompressedBlock, Lz4FrameError, Lz4FrameHeader, u32le } from './frame-format.ts';
import { decodeBlockInto } from './js-block.ts';
import { describeLz4Result, LZ4_ERR_OVERFLOW } from './lz4-wasm-decoder.ts';
import type { Xxh32 } from './xxh32.ts';

/** What a frame must fit: the content size it must have and the most block bytes it may hold. */
export interface Lz4FrameLimits {
  /** Decompressed size the frame must have (a declared content size must equal it). */
  readonly contentSize: number;
  /** Most bytes its data blocks may hold together. */
  readonly maxBlockBytes: number;
}

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
  /** The stored content checksum, or -1 when the frame carries none. */
  contentChecksum = -1;
  /** Data blocks, and for each its data's offset in the buffer, its size and whether it is LZ4-compressed. */
  blocks = 0;
  readonly blockStart: number[] = [];
  readonly blockSize: number[] = [];
  readonly blockCompressed: boolean[] = [];
  private readonly header: Lz4FrameHeader;
  private readonly xxh32: Xxh32;

  constructor(xxh32: Xxh32) {
    this.xxh32 = xxh32;
    this.header = new Lz4FrameHeader(xxh32, 'LTX pages');
  }

  /** Blocks may not refer to earlier blocks (FLG bit 5). */
  get independent(): boolean {
    return this.header.independent;
  }

  /** The block maximum size (BD). */
  get blockMax(): number {
    return this.header.blockMax;
  }

  /**
   * Scans the frame at `bytes[start]`, of which the bytes before `end` are available. Returns
   * true when the whole frame is there and sound (then see the fields), false when more bytes
   * are needed (`need`). Throws `Lz4FrameError` for a frame that breaks the format, does not
   * fit `limits`, needs a dictionary, or whose header or block checksum does not match.
   */
  scan(bytes: Uint8Array, start: number, end: number, limits: Lz4FrameLimits): boolean {
    this.start = start;
    const header = this.header;
    if (!header.read(bytes, start, end)) return this.needs(header.need);
    if (header.hasContentSize && (header.contentSizeHigh !== 0 || header.contentSizeLow !== limits.contentSize)) {
      throw new Lz4FrameError(6, `declares a content size of ${header.contentSize} bytes, expected ${limits.contentSize}`);
    }
    const blockChecksums = header.blockChecksums;
    let p = start + header.length;
    let total = 0;
    let blocks = 0;
    for (;;) {
      if (end - p < 4) return this.needs(p - start + 4);
      const word = u32le(bytes, p);
      const size = header.blockSize(word, p - start);
      if (size === 0) {
        p += 4;
        break;
      }
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
        if (stored !== computed) throw checksumMismatch('block', data + size - start, stored, computed, blocks + 1);
      }
      this.blockStart[blocks] = data;
      this.blockSize[blocks] = size;
      this.blockCompressed[blocks] = isCompressedBlock(word);
      blocks += 1;
      p = after;
    }
    this.blocks = blocks;
    if (header.contentChecksum) {
      if (end - p < 4) return this.needs(p - start + 4);
      this.contentChecksum = u32le(bytes, p);
      p += 4;
    } else {
      this.contentChecksum = -1;
    }
    this.length = p - start;
    return true;
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
