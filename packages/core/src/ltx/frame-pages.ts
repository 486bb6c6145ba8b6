/**
 * LTX pages stored as LZ4 *frames* (page header flags 0x0000, then one standard LZ4 frame),
 * as Litestream v0.5.0 – v0.5.15 wrote them; v0.5.16 moved to flags 0x0001 + size + LZ4 block.
 *
 * The decoder hands such a page to the same WebAssembly batch kernel as a block page, so
 * decompression, page checksums, the file checksum, the page index and writing the pages
 * stay on one path. This module, on the calling thread, checks each page's frame (magic,
 * FLG/BD, content size, header checksum, block sizes, block checksums, end mark) and copies it
 * into the batch slot in the kernel's layout: page number, flags 0x0000, block size, then
 *
 * - the frame's one LZ4-compressed block as it is (every frame Litestream wrote: a page fits
 *   one 64 KiB block), or
 * - for a frame whose page is stored uncompressed or spread over several blocks, the page
 *   decompressed here in JS and rewritten as one block of literals.
 *
 * The kernel folds 6 header bytes instead of 10 into the file checksum for flags 0x0000: for
 * frame pages the file checksum covers the page header and the decompressed page, no size
 * field. Once the kernel has decompressed a batch, `verifyContent` checks each page against
 * the content checksum its frame carries. The page index size of a frame page covers the page
 * header and the whole LZ4 frame: the caller records that as the page's frame size.
 */
import { compressBound } from '../lz4/bounds.ts';
import { decodeFrameContent, Lz4FrameScanner, type Lz4FrameLimits } from '../lz4/frame.ts';
import { Lz4FrameError } from '../lz4/frame-format.ts';
import { literalBlockSize, writeLiteralBlock } from '../lz4/js-block.ts';
import type { Xxh32 } from '../lz4/xxh32.ts';
import { PAGE_HEADER_SIZE } from './constants.ts';
import { ChecksumMismatchError, CorruptError } from './errors.ts';
import { MAX_BATCH_FRAMES, type BatchSlot } from './page-batch.ts';

/** How a file's pages are stored: `lz4-block` (flags 0x0001, Litestream ≥ v0.5.16) or `lz4-frame` (flags 0x0000, v0.5.0 – v0.5.15). */
export type PageEncoding = 'lz4-block' | 'lz4-frame';

/** Page-header flags of a page stored as one LZ4 frame. */
export const PAGE_FLAG_FRAME = 0x0000;

/** Checks LZ4 frame pages and puts them into batch slots for the page kernel. */
export class FramePages {
  private readonly scanner: Lz4FrameScanner;
  private readonly xxh32: Xxh32;
  private readonly pageSize: number;
  private readonly file: string | undefined;
  private readonly limits: Lz4FrameLimits;
  /** A page decompressed in JS (frames not handed to the kernel as they are). */
  private readonly page: Uint8Array;
  /** The content checksum of each frame in the slot being filled, or -1. */
  private readonly expected = new Float64Array(MAX_BATCH_FRAMES);
  /** After `take` returned 0: bytes from the page header needed to go on. */
  need = 0;

  constructor(xxh32: Xxh32, pageSize: number, file: string | undefined) {
    this.xxh32 = xxh32;
    this.scanner = new Lz4FrameScanner(xxh32);
    this.pageSize = pageSize;
    this.file = file;
    // One page's frame never needs more block bytes than LZ4's worst case for the page.
    this.limits = { contentSize: pageSize, maxBlockBytes: compressBound(pageSize) };
    this.page = new Uint8Array(pageSize);
  }

  /**
   * Checks the frame page whose 6-byte header is at `bytes[pos]` (already validated: number,
   * order, flags) and appends it to `slot` with its file offset `offset`. Returns the page
   * frame's size (header and LZ4 frame), or 0 when the bytes before `end` do not hold all of
   * it (then `need` says how many bytes from `pos` are needed). Throws `CorruptError` or
   * `ChecksumMismatchError` naming the file, page and offset.
   */
  take(bytes: Uint8Array, pos: number, end: number, pgno: number, offset: number, slot: BatchSlot): number {
    const frame = this.scanner;
    const start = pos + PAGE_HEADER_SIZE;
    try {
      if (!frame.scan(bytes, start, end, this.limits)) {
        this.need = PAGE_HEADER_SIZE + frame.need;
        return 0;
      }
    } catch (error) {
      throw this.fault(error, pgno, offset);
    }
    const index = slot.frames;
    if (frame.blocks === 1 && frame.blockCompressed[0]) {
      const size = frame.blockSize[0]!;
      const data = frame.blockStart[0]!;
      slot.memory.set(bytes.subarray(data, data + size), slot.appendFrameHeader(pgno, PAGE_FLAG_FRAME, size));
    } else {
      let produced: number;
      try {
        produced = decodeFrameContent(bytes, frame, this.page);
      } catch (error) {
        throw this.fault(error, pgno, offset);
      }
      if (produced !== this.pageSize) {
        throw this.corrupt(`page ${pgno}: LZ4 frame at offset ${offset + PAGE_HEADER_SIZE} decompresses to ${produced} bytes, the page size is ${this.pageSize}`);
      }
      const size = literalBlockSize(this.pageSize);
      writeLiteralBlock(this.page, slot.memory, slot.appendFrameHeader(pgno, PAGE_FLAG_FRAME, size));
    }
    const frameSize = PAGE_HEADER_SIZE + frame.length;
    slot.addFrame(pgno, offset, frameSize);
    this.expected[index] = frame.contentChecksum;
    return frameSize;
  }

  /** Checks the pages the kernel decoded from `slot` (end to end in `pages`) against their frames' content checksums. */
  verifyContent(slot: BatchSlot, pages: Uint8Array): void {
    const size = this.pageSize;
    for (let i = 0; i < slot.frames; i++) {
      const stored = this.expected[i]!;
      if (stored < 0) continue;
      const computed = this.xxh32(pages.subarray(i * size, (i + 1) * size));
      if (computed !== stored) {
        throw new ChecksumMismatchError('LZ4 content', BigInt(stored), BigInt(computed), {
          file: this.file,
          detail: `page ${slot.pgno(i)}, LZ4 frame at offset ${slot.frameOffsets[i]! + PAGE_HEADER_SIZE}`,
          digits: 8,
        });
      }
    }
  }

  /** The error for a frame that `Lz4FrameScanner` or `decodeFrameContent` refused. */
  private fault(error: unknown, pgno: number, offset: number): Error {
    if (!(error instanceof Lz4FrameError)) return error as Error;
    const frameAt = offset + PAGE_HEADER_SIZE;
    const where = `offset ${frameAt + error.at} of the LZ4 frame at offset ${frameAt}`;
    const checksum = error.checksum;
    if (checksum !== undefined) {
      return new ChecksumMismatchError(`LZ4 ${checksum.kind}`, BigInt(checksum.stored), BigInt(checksum.computed), {
        file: this.file,
        detail: `page ${pgno}, ${where}`,
        digits: checksum.kind === 'header' ? 2 : 8,
      });
    }
    return this.corrupt(`page ${pgno}: ${error.message}, at ${where}`);
  }

  private corrupt(message: string): CorruptError {
    return new CorruptError('page', message, { file: this.file });
  }
}
