import { Crc64, crc64Raw, pageChecksumFromRaw } from '../checksum/index.ts';
import { ByteReader } from '../io/byte-reader.ts';
import { compressBound, decompressBlock } from '../lz4/block.ts';
import {
  CHECKSUM_FLAG,
  FRAME_HEADER_SIZE,
  HEADER_SIZE,
  PAGE_FLAG_SIZE,
  PAGE_HEADER_SIZE,
  TRAILER_SIZE,
  lockPgno,
} from './constants.ts';
import type { LtxTrailer } from './encoder.ts';
import { ChecksumMismatchError, CorruptError, UsageError } from './errors.ts';
import { decodeHeader, hasNoChecksum, isSnapshot, type LtxHeader } from './header.ts';
import { IndexFingerprint, type PageIndexEntry } from './page-index.ts';

/** One decoded page. `data` is a fresh buffer the caller may keep. */
export interface LtxPage {
  readonly pgno: number;
  readonly data: Buffer;
  /** The page's checksum (CRC-64/ISO of pgno and data, bit 63 set). */
  readonly checksum: bigint;
  /** File offset and byte size of the page's frame (header, size and compressed block). */
  readonly frameOffset: number;
  readonly frameSize: number;
}

/** What `LtxDecoder.finish()` reports once every check passed. */
export interface LtxDecodeResult extends LtxTrailer {
  readonly header: LtxHeader;
  readonly pageCount: number;
  /** Total bytes read. */
  readonly size: number;
  /** XOR of the page checksums read, with bit 63 set (the database checksum for snapshots). */
  readonly pagesChecksum: bigint;
  /** The page index entries, only when the decoder was made with `collectIndex`. */
  readonly pageIndex?: PageIndexEntry[];
}

/**
 * Streams an LTX v3 file and checks every rule: header fields, page order, the lock page,
 * frame sizes, each block's size, the page index against the frames, the trailer, the
 * file checksum, and for snapshots completeness and the post-apply checksum. Memory is
 * one page plus the input chunk, whatever the file size.
 *
 * Use: `readHeader()`, then iterate `pages()`, then `finish()`. Nothing is trusted before
 * `finish()` resolves: a caller that applies pages as they come must be ready to discard them.
 */
export class LtxDecoder {
  private readonly reader: ByteReader;
  private readonly file: string | undefined;
  private readonly collectIndex: boolean;
  private readonly crc = new Crc64();
  private readonly frames = new IndexFingerprint();
  private header: LtxHeader | undefined;
  private state: 'header' | 'pages' | 'index' | 'done' = 'header';
  private prevPgno = 0;
  private pageCount = 0;
  private dbChecksum = 0n;
  /** Page-index bytes not yet fed to the file checksum (fed in batches, not byte by byte). */
  private readonly indexPending = Buffer.allocUnsafe(4096);
  private indexPendingLength = 0;

  /**
   * @param options.file name used in error messages.
   * @param options.collectIndex keep the page index entries for `finish()` to return (for dumps).
   */
  constructor(source: AsyncIterable<Uint8Array>, options: { file?: string | undefined; collectIndex?: boolean } = {}) {
    this.reader = new ByteReader(source);
    this.file = options.file;
    this.collectIndex = options.collectIndex ?? false;
  }

  /** Reads and validates the 100-byte header. */
  async readHeader(): Promise<LtxHeader> {
    if (this.state !== 'header') throw new UsageError('LTX header already read');
    const bytes = await this.reader.read(HEADER_SIZE);
    if (!bytes) {
      if (this.reader.offset === 0) throw this.corrupt('file', 'file is empty');
      throw this.corrupt('header', `truncated: file ends after ${this.reader.offset} of ${HEADER_SIZE} header bytes`);
    }
    this.header = decodeHeader(bytes, this.file);
    this.crc.update(bytes);
    this.state = 'pages';
    return this.header;
  }

  /** Yields each page in file order, validating as it goes. */
  async *pages(): AsyncGenerator<LtxPage> {
    const h = this.requireState('pages');
    const lock = lockPgno(h.pageSize);
    const maxBlock = compressBound(h.pageSize);
    for (;;) {
      const frameOffset = this.reader.offset;
      const head = await this.readExactly(PAGE_HEADER_SIZE, 'page', 'page header');
      const pgno = head.readUInt32BE(0);
      const flags = head.readUInt16BE(4);
      if (pgno === 0 && flags === 0) {
        this.crc.update(head);
        this.state = 'index';
        this.checkComplete(h, lock);
        return;
      }
      if (pgno === 0) throw this.corrupt('page', `page header at offset ${frameOffset} has page number 0`);
      if (flags !== PAGE_FLAG_SIZE) {
        throw this.corrupt('page', `page ${pgno} has flags 0x${flags.toString(16).padStart(4, '0')}; LTX v3 needs 0x0001 (LZ4 block with size)`);
      }
      this.checkOrder(h, pgno, lock);
      const sizeBytes = await this.readExactly(4, 'page', `size of page ${pgno}`);
      const blockSize = sizeBytes.readUInt32BE(0);
      if (blockSize === 0 || blockSize > maxBlock) {
        throw this.corrupt('page', `page ${pgno} claims a compressed size of ${blockSize} bytes (valid: 1..${maxBlock})`);
      }
      const block = await this.readExactly(blockSize, 'page', `data of page ${pgno}`);
      let data: Buffer;
      try {
        data = decompressBlock(block, h.pageSize);
      } catch (cause) {
        throw this.corrupt('page', `page ${pgno} does not decompress: ${(cause as Error).message}`, cause);
      }
      const raw = crc64Raw(0n, data);
      this.crc.update(head).update(sizeBytes).updateRaw(raw, data.byteLength);
      const checksum = pageChecksumFromRaw(pgno, raw, data.byteLength);
      this.dbChecksum ^= checksum;
      this.frames.add(pgno, frameOffset, FRAME_HEADER_SIZE + blockSize);
      this.prevPgno = pgno;
      this.pageCount += 1;
      yield { pgno, data, checksum, frameOffset, frameSize: FRAME_HEADER_SIZE + blockSize };
    }
  }

  /**
   * Reads the page index and trailer (draining any pages not yet read) and verifies
   * everything. Throws `ChecksumMismatchError` or `CorruptError` naming the file.
   */
  async finish(): Promise<LtxDecodeResult> {
    if (this.state === 'header') await this.readHeader();
    if (this.state === 'pages') for await (const _ of this.pages());
    const h = this.requireState('index');
    const indexStart = this.reader.offset;
    const parsed = new IndexFingerprint();
    const entries: PageIndexEntry[] | undefined = this.collectIndex ? [] : undefined;
    let prev = 0;
    for (;;) {
      const pgno = await this.readUvarint('page index');
      if (pgno === 0) break;
      const offset = await this.readUvarint('page index');
      const size = await this.readUvarint('page index');
      if (pgno <= prev) throw this.corrupt('page-index', `entries out of order: page ${pgno} after ${prev}`);
      prev = pgno;
      parsed.add(pgno, offset, size);
      entries?.push({ pgno, offset, size });
    }
    this.flushIndexPending();
    const indexBytes = this.reader.offset - indexStart;
    const sizeField = await this.readExactly(8, 'page-index', 'page index size');
    this.crc.update(sizeField);
    const declared = sizeField.readBigUInt64BE(0);
    if (declared !== BigInt(indexBytes)) throw this.corrupt('page-index', `declares ${declared} bytes but holds ${indexBytes}`);
    if (!parsed.equals(this.frames)) {
      throw this.corrupt('page-index', `does not match the page frames (${parsed.count} entries for ${this.frames.count} frames)`);
    }
    const trailer = await this.readExactly(TRAILER_SIZE, 'trailer', 'trailer');
    this.crc.update(trailer.subarray(0, 8));
    if (!(await this.reader.atEnd())) throw this.corrupt('file', `unexpected bytes after the trailer at offset ${this.reader.offset}`);
    const postApplyChecksum = trailer.readBigUInt64BE(0);
    const fileChecksum = trailer.readBigUInt64BE(8);
    this.state = 'done';
    const computed = CHECKSUM_FLAG | this.crc.digest();
    if (fileChecksum !== computed) throw new ChecksumMismatchError('file', fileChecksum, computed, { file: this.file });
    this.checkTrailer(h, postApplyChecksum);
    return {
      header: h,
      postApplyChecksum,
      fileChecksum,
      pageCount: this.pageCount,
      size: this.reader.offset,
      pagesChecksum: CHECKSUM_FLAG | this.dbChecksum,
      ...(entries ? { pageIndex: entries } : {}),
    };
  }

  /** Stops reading early and releases the source. */
  async cancel(): Promise<void> {
    await this.reader.cancel();
  }

  private checkOrder(h: LtxHeader, pgno: number, lock: number): void {
    if (pgno > h.commit) throw this.corrupt('page', `page ${pgno} is beyond commit ${h.commit}`);
    if (pgno === lock) throw this.corrupt('page', `page ${pgno} is SQLite's lock page, which is never stored`);
    if (isSnapshot(h)) {
      const expected = this.prevPgno + 1 === lock ? this.prevPgno + 2 : this.prevPgno + 1;
      if (pgno !== expected) throw this.corrupt('page', `snapshot pages out of sequence: page ${pgno} after ${this.prevPgno}, expected ${expected}`);
    } else if (pgno <= this.prevPgno) {
      throw this.corrupt('page', `pages out of order: page ${pgno} after ${this.prevPgno}`);
    }
  }

  private checkComplete(h: LtxHeader, lock: number): void {
    if (!isSnapshot(h)) return;
    const last = h.commit === lock ? h.commit - 1 : h.commit;
    if (this.prevPgno !== last) throw this.corrupt('page', `snapshot is incomplete: pages end at ${this.prevPgno}, commit is ${h.commit}`);
  }

  private checkTrailer(h: LtxHeader, post: bigint): void {
    if (hasNoChecksum(h)) {
      if (post !== 0n) throw this.corrupt('trailer', 'post-apply checksum set on a file without checksums');
      return;
    }
    if ((post & CHECKSUM_FLAG) === 0n) throw this.corrupt('trailer', `post-apply checksum ${post.toString(16)} lacks the flag bit`);
    if (isSnapshot(h)) {
      const computed = CHECKSUM_FLAG | this.dbChecksum;
      if (post !== computed) throw new ChecksumMismatchError('post-apply', post, computed, { file: this.file, detail: "snapshot pages do not add up to the trailer's database checksum" });
    }
  }

  private requireState(state: 'pages' | 'index'): LtxHeader {
    if (this.state !== state || !this.header) {
      throw new UsageError(`LTX decoder is at the ${this.state} stage, cannot read ${state}`);
    }
    return this.header;
  }

  private async readExactly(n: number, section: string, what: string): Promise<Buffer> {
    const at = this.reader.offset;
    const bytes = await this.reader.read(n);
    if (!bytes) throw this.corrupt(section, `truncated: file ends at offset ${this.reader.offset} while reading ${what} (${n} bytes from offset ${at})`);
    return bytes;
  }

  private async readUvarint(section: string): Promise<number> {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const start = this.reader.offset;
      const byte = this.reader.buffered > 0 ? this.reader.takeByteSync() : await this.reader.readByte();
      if (byte === null) throw this.corrupt('page-index', `truncated: file ends at offset ${start} inside the ${section}`);
      if (this.indexPendingLength === this.indexPending.byteLength) this.flushIndexPending();
      this.indexPending[this.indexPendingLength++] = byte;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw this.corrupt('page-index', `value out of range at offset ${start}`);
        return value;
      }
      scale *= 0x80;
    }
    throw this.corrupt('page-index', `varint longer than 10 bytes at offset ${this.reader.offset}`);
  }

  private flushIndexPending(): void {
    this.crc.update(this.indexPending.subarray(0, this.indexPendingLength));
    this.indexPendingLength = 0;
  }

  private corrupt(section: string, message: string, cause?: unknown): CorruptError {
    return new CorruptError(section, message, { file: this.file, cause });
  }
}

/** Decodes a whole LTX stream, checking everything, without keeping pages. */
export async function verifyLtx(source: AsyncIterable<Uint8Array>, options: { file?: string | undefined } = {}): Promise<LtxDecodeResult> {
  const decoder = new LtxDecoder(source, options);
  try {
    return await decoder.finish();
  } finally {
    await decoder.cancel();
  }
}
