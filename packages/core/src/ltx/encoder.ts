import { Crc64, crc64Raw, pageChecksumFromRaw } from '../checksum/index.ts';
import { ChunkWriter, type ByteSink } from '../io/chunk-writer.ts';
import { compressBlock } from '../lz4/block.ts';
import { CHECKSUM_FLAG, FRAME_HEADER_SIZE, PAGE_FLAG_SIZE, PAGE_HEADER_SIZE, TRAILER_SIZE, lockPgno } from './constants.ts';
import { UsageError } from './errors.ts';
import { completeHeader, encodeHeader, hasNoChecksum, isSnapshot, type LtxHeader, type LtxHeaderInit } from './header.ts';
import { PageIndexBuilder } from './page-index.ts';

/** The 16-byte trailer that ends every LTX file. */
export interface LtxTrailer {
  /** Database checksum after applying the file (zero when the file has no checksums). */
  readonly postApplyChecksum: bigint;
  /** CRC-64/ISO over the file's logical content, with bit 63 set. */
  readonly fileChecksum: bigint;
}

/** What `LtxEncoder.finish()` reports. */
export interface LtxEncodeResult extends LtxTrailer {
  readonly header: LtxHeader;
  /** Bytes written to the sink. */
  readonly size: number;
  readonly pageCount: number;
}

/**
 * Streams an LTX v3 file: pages in, bytes out to any writable. Memory is one output chunk
 * plus the page index (~7 bytes a page), never the file. Pages must come in ascending
 * order; a snapshot (minTXID 1) must hold every page from 1 to `commit` but the lock page.
 */
export class LtxEncoder {
  readonly header: LtxHeader;
  private readonly out: ChunkWriter;
  private readonly file: string | undefined;
  private readonly crc = new Crc64();
  private readonly index = new PageIndexBuilder();
  private readonly lockPgno: number;
  private headerWritten = false;
  private finished = false;
  private prevPgno = 0;
  private dbChecksum = 0n;

  /**
   * @param sink a Node writable or a chunk callback; the encoder never ends it.
   * @param init header fields; `timestamp` defaults to now.
   * @param options.file a name for error messages.
   */
  constructor(sink: ByteSink, init: LtxHeaderInit, options: { file?: string; chunkSize?: number } = {}) {
    this.header = completeHeader(init);
    encodeHeader(this.header); // validates now, so a bad header fails before any byte is written
    this.out = new ChunkWriter(sink, options.chunkSize);
    this.file = options.file;
    this.lockPgno = lockPgno(this.header.pageSize);
  }

  /** Bytes produced so far. */
  get bytesWritten(): number {
    return this.out.written;
  }

  /** Pages encoded so far. */
  get pageCount(): number {
    return this.index.count;
  }

  /** XOR of the checksums of the pages written so far, with bit 63 set. */
  get pagesChecksum(): bigint {
    return CHECKSUM_FLAG | this.dbChecksum;
  }

  /** Compresses and writes one page. `data` must be exactly one page. Returns the page's checksum. */
  async writePage(pgno: number, data: Uint8Array): Promise<bigint> {
    this.checkPage(pgno, data);
    await this.writeHeaderOnce();
    const raw = crc64Raw(0n, data);
    const checksum = pageChecksumFromRaw(pgno, raw, data.byteLength);
    this.dbChecksum ^= checksum;
    const block = compressBlock(data);
    const frameSize = FRAME_HEADER_SIZE + block.byteLength;
    const offset = this.out.written;
    if (this.out.room < FRAME_HEADER_SIZE) await this.out.flush();
    const frameHeader = this.out.reserve(FRAME_HEADER_SIZE);
    frameHeader.writeUInt32BE(pgno, 0);
    frameHeader.writeUInt16BE(PAGE_FLAG_SIZE, 4);
    frameHeader.writeUInt32BE(block.byteLength, PAGE_HEADER_SIZE);
    // The file checksum covers the frame header, the size and the *uncompressed* page.
    this.crc.update(frameHeader).updateRaw(raw, data.byteLength);
    await this.out.write(block);
    this.index.add(pgno, offset, frameSize);
    this.prevPgno = pgno;
    return checksum;
  }

  /**
   * Writes the end of the page block, the page index and the trailer, and flushes.
   * For a snapshot the post-apply checksum is computed from the pages (a given value must
   * agree); other files need it from the caller unless the header has the no-checksum flag.
   */
  async finish(postApplyChecksum?: bigint): Promise<LtxEncodeResult> {
    if (this.finished) throw new UsageError('LTX encoder already finished');
    const h = this.header;
    const post = this.resolvePostApply(postApplyChecksum);
    await this.writeHeaderOnce();
    const terminator = Buffer.alloc(PAGE_HEADER_SIZE);
    const index = this.index.finish();
    const trailer = Buffer.alloc(TRAILER_SIZE);
    trailer.writeBigUInt64BE(post, 0);
    this.crc.update(terminator).update(index).update(trailer.subarray(0, 8));
    const fileChecksum = CHECKSUM_FLAG | this.crc.digest();
    trailer.writeBigUInt64BE(fileChecksum, 8);
    await this.out.write(terminator);
    await this.out.write(index);
    await this.out.write(trailer);
    await this.out.flush();
    this.finished = true;
    return { header: h, postApplyChecksum: post, fileChecksum, size: this.out.written, pageCount: this.index.count };
  }

  private resolvePostApply(given: bigint | undefined): bigint {
    const h = this.header;
    if (hasNoChecksum(h)) {
      if (given !== undefined && given !== 0n) throw new UsageError('post-apply checksum given for a file without checksums');
      return 0n;
    }
    if (isSnapshot(h)) {
      const last = h.commit === this.lockPgno ? h.commit - 1 : h.commit;
      if (this.prevPgno !== last) {
        throw new UsageError(`snapshot is incomplete: wrote pages up to ${this.prevPgno}, commit is ${h.commit}${this.where()}`);
      }
      const computed = this.pagesChecksum;
      if (given !== undefined && given !== computed) {
        throw new UsageError(`post-apply checksum ${hex(given)} does not match the snapshot's pages (${hex(computed)})${this.where()}`);
      }
      return computed;
    }
    if (given === undefined || given === 0n) throw new UsageError(`post-apply checksum required for a non-snapshot file${this.where()}`);
    if ((given & CHECKSUM_FLAG) === 0n) throw new UsageError(`post-apply checksum ${hex(given)} lacks the flag bit${this.where()}`);
    if (h.commit === 0 && given !== CHECKSUM_FLAG) throw new UsageError('post-apply checksum of an empty database must be the bare flag');
    return given;
  }

  private checkPage(pgno: number, data: Uint8Array): void {
    const h = this.header;
    if (this.finished) throw new UsageError('LTX encoder already finished');
    if (!Number.isInteger(pgno) || pgno < 1) throw new UsageError(`invalid page number ${pgno}`);
    if (pgno > h.commit) throw new UsageError(`page ${pgno} is beyond commit ${h.commit}${this.where()}`);
    if (data.byteLength !== h.pageSize) throw new UsageError(`page ${pgno} is ${data.byteLength} bytes, expected ${h.pageSize}`);
    if (pgno === this.lockPgno) throw new UsageError(`page ${pgno} is SQLite's lock page and is never stored`);
    if (isSnapshot(h)) {
      const expected = this.prevPgno + 1 === this.lockPgno ? this.prevPgno + 2 : this.prevPgno + 1;
      if (pgno !== expected) throw new UsageError(`snapshot pages must be sequential: got ${pgno} after ${this.prevPgno}, expected ${expected}`);
    } else if (pgno <= this.prevPgno) {
      throw new UsageError(`pages must be in ascending order: got ${pgno} after ${this.prevPgno}`);
    }
  }

  private async writeHeaderOnce(): Promise<void> {
    if (this.headerWritten) return;
    this.headerWritten = true;
    const bytes = encodeHeader(this.header);
    this.crc.update(bytes);
    await this.out.write(bytes);
  }

  private where(): string {
    return this.file ? ` (${this.file})` : '';
  }
}

function hex(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}
