import { Crc64 } from '../checksum/index.ts';
import { ByteReader } from '../io/byte-reader.ts';
import { compressBound } from '../lz4/bounds.ts';
import { describeLz4Result } from '../lz4/lz4-wasm-decoder.ts';
import {
  CHECKSUM_FLAG,
  FRAME_HEADER_SIZE,
  HEADER_SIZE,
  PAGE_FLAG_SIZE,
  PAGE_HEADER_SIZE,
  TRAILER_SIZE,
  lockPgno,
} from './constants.ts';
import { acquireLocalExecutor } from './local-executor.ts';
import { BatchJob, framesPerBatch, type BatchOutcome, type BatchSlot, type LocalExecutor, type PagePool } from './page-batch.ts';
import type { LtxTrailer } from './encoder.ts';
import { ChecksumMismatchError, CorruptError, UsageError } from './errors.ts';
import { FramePages, PAGE_FLAG_FRAME, type PageEncoding } from './frame-pages.ts';
import { loadXxh32 } from '../lz4/xxh32.ts';
import { decodeHeader, hasNoChecksum, isSnapshot, type LtxHeader } from './header.ts';
import { IndexFingerprint, type PageIndexEntry } from './page-index.ts';

/** One decoded page. `data` is a fresh buffer the caller may keep. */
export interface LtxPage {
  readonly pgno: number;
  readonly data: Buffer;
  /** The page's checksum (CRC-64/ISO of pgno and data, bit 63 set). */
  readonly checksum: bigint;
  /** File offset and byte size of the page's frame (header, size and compressed block; or header and LZ4 frame). */
  readonly frameOffset: number;
  readonly frameSize: number;
  /** How the page is stored (one kind per file). */
  readonly encoding: PageEncoding;
}

/**
 * A run of decoded pages, in file order (`LtxDecoder.batches`). Everything in it is a view
 * that stays valid only until the next batch is asked for: copy what you keep.
 */
export interface LtxPageBatch {
  /** Pages in the batch. */
  readonly count: number;
  readonly pageSize: number;
  /** How the file's pages are stored. */
  readonly encoding: PageEncoding;
  /** Page number of page `i`. */
  pgno(i: number): number;
  /** Checksum of page `i` (bit 63 set). */
  checksum(i: number): bigint;
  /** File offset and size of page `i`'s frame. */
  frameOffset(i: number): number;
  frameSize(i: number): number;
  /**
   * The pages end to end (`count × pageSize` bytes), when they were decoded on this thread;
   * undefined when a worker decoded them (and, given `fd`, wrote them itself).
   */
  readonly data: Uint8Array | undefined;
}

/** How `LtxDecoder.batches` decodes and where the pages go. */
export interface LtxBatchOptions {
  /**
   * Writes every page to this file descriptor at `(pgno - 1) × pageSize`, one positioned
   * write per run of consecutive pages, before the batch is yielded.
   */
  readonly fd?: number | undefined;
  /** Decodes on these worker threads (see `PageWorkerPool`); otherwise on this thread. */
  readonly pool?: PagePool | undefined;
  /** At most this many pages per batch (default: 1 MiB of pages). */
  readonly maxPages?: number | undefined;
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
  /** How the pages are stored (absent for a file without pages). */
  readonly pageEncoding?: PageEncoding;
}

/**
 * Streams an LTX v3 file and checks every rule: header fields, page order, the lock page,
 * frame sizes, each block's size, the page index against the frames, the trailer, the
 * file checksum, and for snapshots completeness and the post-apply checksum. Memory is
 * one batch of pages plus the input chunk, whatever the file size.
 *
 * Use: `readHeader()`, then iterate `pages()` (one page at a time) or `batches()` (runs of
 * pages, optionally decoded on worker threads and written straight to a file), then
 * `finish()`. Nothing is trusted before `finish()` resolves: a caller that applies pages as
 * they come must be ready to discard them.
 *
 * Frames are validated here, on the calling thread, as they arrive; decompression and
 * the checksums run in the WebAssembly page kernel a batch at a time (`page-batch.ts`).
 *
 * Pages are LZ4 blocks with a size (flags 0x0001, Litestream ≥ v0.5.16) or, in files of
 * Litestream v0.5.0 – v0.5.15, LZ4 frames (flags 0x0000; `frame-pages.ts`, which also checks
 * the frames' own checksums). A file holds one kind: the first page decides, and a page of the
 * other kind is refused. Files of frame pages are decoded on the calling thread (no pool).
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
  private local: LocalExecutor | undefined;
  /** How the pages are stored, known once the first page header was seen. */
  private encoding: PageEncoding | undefined;
  /** Checks and rewrites LZ4 frame pages (files of frame pages only). */
  private framePages: FramePages | undefined;
  /** The zero page header that ended the page block, checksummed after every batch before it. */
  private terminator: Buffer | undefined;
  /** Page-index bytes not yet fed to the file checksum (fed in batches, not byte by byte). */
  private readonly indexPending = Buffer.allocUnsafe(4096);
  private indexPendingLength = 0;
  /** An iteration ended early with batches on workers: they were never folded into the checksum. */
  private unfolded = false;

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
    // Small batches: a suspended consumer (the compactor holds one per input) pins little.
    for await (const batch of this.batches({ maxPages: 32 })) {
      const { pageSize, data } = batch;
      for (let i = 0; i < batch.count; i++) {
        yield {
          pgno: batch.pgno(i),
          data: Buffer.from(data!.subarray(i * pageSize, (i + 1) * pageSize)),
          checksum: batch.checksum(i),
          frameOffset: batch.frameOffset(i),
          frameSize: batch.frameSize(i),
          encoding: batch.encoding,
        };
      }
    }
  }

  /**
   * Yields the pages in batches, in file order, validating as it goes (see `LtxBatchOptions`
   * for writing them to a file and for decoding on worker threads). With a pool, a batch
   * goes to a worker when one has a free slot and is otherwise decoded here, so this thread
   * works too instead of waiting; batches are still yielded, and folded into the file
   * checksum, in order. Ending the iteration early waits for batches still on workers.
   * Files of LZ4 frame pages are decoded on this thread whatever `pool` says.
   */
  async *batches(options: LtxBatchOptions = {}): AsyncGenerator<LtxPageBatch> {
    const h = this.requireState('pages');
    if (this.unfolded) throw new UsageError('LTX decoder cannot resume: an iteration ended early with batches still on workers');
    if (this.terminator !== undefined) {
      // An earlier iteration stopped after the last page: only the end of the page block is left.
      this.endPages(h);
      return;
    }
    if (this.encoding === undefined) await this.detectEncoding(h);
    // A frame page's content checksum is checked against the decoded page, which only a batch decoded here leaves readable.
    const pool = this.encoding === 'lz4-frame' ? undefined : options.pool;
    const local = (this.local ??= acquireLocalExecutor());
    const pageSize = h.pageSize;
    const perBatch = Math.max(1, Math.min(options.maxPages ?? Infinity, framesPerBatch(pageSize)));
    const fd = options.fd;
    const inFlight: BatchJob<BatchOutcome>[] = [];
    let slot: BatchSlot | undefined;
    try {
      for (;;) {
        if (pool) {
          // Hand finished batches over first, so their slots take the next ones.
          while (inFlight[0]?.done) yield* this.deliver(inFlight.shift()!, pageSize, pool, local);
          slot = pool.take() ?? local.take();
          while (slot === undefined) {
            // Every slot holds a batch: wait for the oldest.
            const oldest = inFlight.shift();
            if (oldest === undefined) throw new UsageError('LTX decoder has no free batch slot (another iteration of this decoder is still open)');
            await oldest.outcome;
            yield* this.deliver(oldest, pageSize, pool, local);
            slot = pool.take() ?? local.take();
          }
        } else {
          slot = local.take();
          if (slot === undefined) throw new UsageError('LTX decoder has no free batch slot (another iteration of this decoder is still open)');
        }
        const ended = await this.fillBatch(slot, h, perBatch);
        if (slot.frames > 0) {
          if (!pool) {
            // Alone on this thread: continue the file checksum straight through the batch.
            const outcome = await local.decode(slot, pageSize, this.crc.state, fd);
            if (outcome.failedAt >= 0) throw this.undecodable(slot, outcome, pageSize);
            const pages = local.pages(slot.frames, pageSize);
            this.framePages?.verifyContent(slot, pages);
            this.crc.setState(slot.segment());
            this.account(slot);
            yield batchView(slot, pageSize, this.encoding ?? 'lz4-block', pages);
            local.release(slot);
          } else {
            inFlight.push(slot.worker >= 0 ? new BatchJob(slot, pool.decode(slot, pageSize, fd)) : new BatchJob(slot, local.decode(slot, pageSize, 0n, fd)));
          }
        } else {
          (slot.worker >= 0 ? pool! : local).release(slot);
        }
        slot = undefined;
        if (ended) break;
      }
      while (inFlight.length > 0) {
        const oldest = inFlight.shift()!;
        await oldest.outcome;
        yield* this.deliver(oldest, pageSize, pool!, local);
      }
      await local.flush();
      this.endPages(h);
    } finally {
      // Workers, or this thread's writes, may still be writing pages of batches nobody will
      // read: wait for them, so the caller can close (or delete) the file once this returns.
      await Promise.allSettled(inFlight.map((job) => job.outcome));
      // Their pages never reached the file checksum, so this decoder cannot go on.
      if (inFlight.length > 0) this.unfolded = true;
      await local.settle();
      for (const job of inFlight) (job.slot.worker >= 0 ? pool! : local).release(job.slot);
      if (slot !== undefined) (slot.worker >= 0 ? pool! : local).release(slot);
    }
  }

  /**
   * Folds a batch decoded out of order (on a worker, or here while the workers were busy)
   * into the file state, in file order, and yields it. Its register started from zero, so
   * ours is shifted past the batch and combined. The slot is freed when the consumer moves on.
   */
  private *deliver(job: BatchJob<BatchOutcome>, pageSize: number, pool: PagePool, local: LocalExecutor): Generator<LtxPageBatch> {
    const { slot } = job;
    try {
      const outcome = job.result!;
      if (outcome.failedAt >= 0) throw this.undecodable(slot, outcome, pageSize);
      // Only block pages go to workers: the checksum covers each frame's 10-byte header and the page.
      this.crc.updateRaw(slot.segment(), slot.frames * (FRAME_HEADER_SIZE + pageSize));
      this.account(slot);
      yield batchView(slot, pageSize, 'lz4-block', undefined);
    } finally {
      (slot.worker >= 0 ? pool : local).release(slot);
    }
  }

  private account(slot: BatchSlot): void {
    this.dbChecksum ^= slot.xor();
    this.pageCount += slot.frames;
  }

  private undecodable(slot: BatchSlot, outcome: BatchOutcome, pageSize: number): CorruptError {
    const pgno = slot.pgno(outcome.failedAt);
    const where = this.encoding === 'lz4-frame' ? ` (the block of the LZ4 frame at offset ${slot.frameOffsets[outcome.failedAt]! + PAGE_HEADER_SIZE})` : '';
    return this.corrupt('page', `page ${pgno} does not decompress${where}: ${describeLz4Result(outcome.detail, pageSize)}`);
  }

  /**
   * Learns from the first page header how the file's pages are stored (and loads what frame
   * pages need). Leaves it unknown for a file without pages, or one that ends before its first
   * page header (the batch then reports the truncation).
   */
  private async detectEncoding(h: LtxHeader): Promise<void> {
    if (!(await this.reader.ensure(PAGE_HEADER_SIZE))) return;
    const view = this.reader.peek();
    if (view.readUInt32BE(0) === 0) return;
    if (view.readUInt16BE(4) !== PAGE_FLAG_FRAME) {
      this.encoding = 'lz4-block';
      return;
    }
    this.encoding = 'lz4-frame';
    this.framePages = new FramePages(await loadXxh32(), h.pageSize, this.file);
  }

  /**
   * Copies whole, validated frames into `slot` until it holds `perBatch` frames or the
   * page block ends (then returns true, keeping the terminator for `endPages` to checksum
   * once every batch before it is folded in). Frames inside the current input chunk are scanned without
   * awaiting and copied in one piece; a frame split across chunks is read on its own.
   */
  private async fillBatch(slot: BatchSlot, h: LtxHeader, perBatch: number): Promise<boolean> {
    if (this.framePages !== undefined) return this.fillFrameBatch(this.framePages, slot, h, perBatch);
    const reader = this.reader;
    const lock = lockPgno(h.pageSize);
    const maxBlock = compressBound(h.pageSize);
    while (slot.frames < perBatch) {
      if (!(await reader.fill())) throw this.corrupt('page', `truncated: file ends at offset ${reader.offset} while reading page header (${PAGE_HEADER_SIZE} bytes from offset ${reader.offset})`);
      const view = reader.peek();
      const base = reader.offset;
      let pos = 0;
      while (slot.frames < perBatch && view.byteLength - pos >= FRAME_HEADER_SIZE) {
        const pgno = view.readUInt32BE(pos);
        const flags = view.readUInt16BE(pos + 4);
        if (pgno === 0 && flags === 0) break;
        this.checkFrameHeader(h, pgno, flags, base + pos, lock);
        const blockSize = view.readUInt32BE(pos + PAGE_HEADER_SIZE);
        this.checkBlockSize(pgno, blockSize, maxBlock);
        const frameSize = FRAME_HEADER_SIZE + blockSize;
        if (view.byteLength - pos < frameSize) break;
        slot.addFrame(pgno, base + pos, frameSize);
        this.frames.add(pgno, base + pos, frameSize);
        this.prevPgno = pgno;
        pos += frameSize;
      }
      if (pos > 0) {
        slot.append(view.subarray(0, pos));
        reader.skip(pos);
      }
      if (slot.frames >= perBatch) return false;
      // Fewer than a whole frame left in this chunk: the terminator, or a frame split across chunks.
      const frameOffset = reader.offset;
      const head = await this.readExactly(PAGE_HEADER_SIZE, 'page', 'page header');
      const pgno = head.readUInt32BE(0);
      const flags = head.readUInt16BE(4);
      if (pgno === 0 && flags === 0) {
        this.terminator = Buffer.from(head);
        return true;
      }
      this.checkFrameHeader(h, pgno, flags, frameOffset, lock);
      // Each piece is copied before the next read: a source may reuse its chunk buffers.
      slot.append(head);
      const sizeBytes = await this.readExactly(4, 'page', `size of page ${pgno}`);
      const blockSize = sizeBytes.readUInt32BE(0);
      this.checkBlockSize(pgno, blockSize, maxBlock);
      slot.append(sizeBytes);
      slot.append(await this.readExactly(blockSize, 'page', `data of page ${pgno}`));
      slot.addFrame(pgno, frameOffset, FRAME_HEADER_SIZE + blockSize);
      this.frames.add(pgno, frameOffset, FRAME_HEADER_SIZE + blockSize);
      this.prevPgno = pgno;
    }
    return false;
  }

  /**
   * `fillBatch` for a file of LZ4 frame pages: each page's frame is checked and copied into
   * the slot by `FramePages`. A page split across input chunks is joined with just enough of
   * the next chunk (`ByteReader.ensure`) and scanned again.
   */
  private async fillFrameBatch(frames: FramePages, slot: BatchSlot, h: LtxHeader, perBatch: number): Promise<boolean> {
    const reader = this.reader;
    const lock = lockPgno(h.pageSize);
    let need = PAGE_HEADER_SIZE;
    while (slot.frames < perBatch) {
      if (!(await reader.ensure(need))) throw this.truncatedFrame(need);
      const view = reader.peek();
      const base = reader.offset;
      let pos = 0;
      need = PAGE_HEADER_SIZE;
      while (slot.frames < perBatch) {
        if (view.byteLength - pos < PAGE_HEADER_SIZE) break;
        const pgno = view.readUInt32BE(pos);
        const flags = view.readUInt16BE(pos + 4);
        if (pgno === 0 && flags === 0) {
          this.terminator = Buffer.from(view.subarray(pos, pos + PAGE_HEADER_SIZE));
          reader.skip(pos + PAGE_HEADER_SIZE);
          return true;
        }
        this.checkFrameHeader(h, pgno, flags, base + pos, lock);
        const size = frames.take(view, pos, view.byteLength, pgno, base + pos, slot);
        if (size === 0) {
          need = frames.need;
          break;
        }
        this.frames.add(pgno, base + pos, size);
        this.prevPgno = pgno;
        pos += size;
      }
      reader.skip(pos);
    }
    return false;
  }

  /** The error for a file that ends inside a frame page (at the reader's position) or its header. */
  private truncatedFrame(need: number): CorruptError {
    const at = this.reader.offset;
    const end = at + this.reader.buffered;
    if (need <= PAGE_HEADER_SIZE) {
      return this.corrupt('page', `truncated: file ends at offset ${end} while reading page header (${PAGE_HEADER_SIZE} bytes from offset ${at})`);
    }
    const pgno = this.reader.peek().readUInt32BE(0);
    return this.corrupt('page', `truncated: file ends at offset ${end} inside the LZ4 frame of page ${pgno} (page from offset ${at}, at least ${need} bytes)`);
  }

  private endPages(h: LtxHeader): void {
    this.crc.update(this.terminator!);
    this.terminator = undefined;
    this.state = 'index';
    this.releaseLocal();
    this.checkComplete(h, lockPgno(h.pageSize));
  }

  private releaseLocal(): void {
    this.local?.close();
    this.local = undefined;
  }

  private checkFrameHeader(h: LtxHeader, pgno: number, flags: number, frameOffset: number, lock: number): void {
    if (pgno === 0) throw this.corrupt('page', `page header at offset ${frameOffset} has page number 0`);
    const expected = this.encoding === 'lz4-frame' ? PAGE_FLAG_FRAME : PAGE_FLAG_SIZE;
    if (flags !== expected) {
      const shown = `0x${flags.toString(16).padStart(4, '0')}`;
      if (flags === PAGE_FLAG_SIZE || flags === PAGE_FLAG_FRAME) {
        const [kind, other] = flags === PAGE_FLAG_FRAME ? ['an LZ4 frame', 'LZ4 block'] : ['an LZ4 block', 'LZ4 frame'];
        throw this.corrupt('page', `page ${pgno} at offset ${frameOffset} is ${kind} page (flags ${shown}) after ${other} pages; a file holds one kind`);
      }
      throw this.corrupt('page', `page ${pgno} has flags ${shown}; LTX v3 pages have 0x0001 (LZ4 block with size) or 0x0000 (LZ4 frame)`);
    }
    this.checkOrder(h, pgno, lock);
  }

  private checkBlockSize(pgno: number, blockSize: number, maxBlock: number): void {
    if (blockSize === 0 || blockSize > maxBlock) {
      throw this.corrupt('page', `page ${pgno} claims a compressed size of ${blockSize} bytes (valid: 1..${maxBlock})`);
    }
  }

  /**
   * Reads the page index and trailer (draining any pages not yet read) and verifies
   * everything. Throws `ChecksumMismatchError` or `CorruptError` naming the file.
   */
  async finish(): Promise<LtxDecodeResult> {
    if (this.state === 'header') await this.readHeader();
    if (this.state === 'pages') for await (const _ of this.batches());
    const h = this.requireState('index');
    const indexStart = this.reader.offset;
    const parsed = new IndexFingerprint();
    const entries: PageIndexEntry[] | undefined = this.collectIndex ? [] : undefined;
    let prev = 0;
    // Entries are (pgno, offset, size) uvarints; `field` says which comes next.
    const values = [0, 0, 0];
    let field = 0;
    const take = (value: number): boolean => {
      values[field] = value;
      if (field === 0 && value === 0) return true;
      if (field < 2) {
        field += 1;
        return false;
      }
      field = 0;
      const [pgno, offset, size] = values as [number, number, number];
      if (pgno <= prev) throw this.corrupt('page-index', `entries out of order: page ${pgno} after ${prev}`);
      prev = pgno;
      parsed.add(pgno, offset, size);
      entries?.push({ pgno, offset, size });
      return false;
    };
    let ended = false;
    while (!ended) {
      // The uvarints that lie whole in the current chunk, without awaiting per byte...
      const start = this.reader.offset;
      if (!(await this.reader.fill())) throw this.corrupt('page-index', `truncated: file ends at offset ${start} inside the page index`);
      const view = this.reader.peek();
      let pos = 0;
      while (!ended) {
        let value = 0;
        let scale = 1;
        let i = pos;
        let whole = false;
        while (i < view.byteLength && i - pos < 10) {
          const byte = view[i++]!;
          value += (byte & 0x7f) * scale;
          if (byte < 0x80) {
            whole = true;
            break;
          }
          scale *= 0x80;
        }
        if (!whole) {
          if (i - pos >= 10) throw this.corrupt('page-index', `varint longer than 10 bytes at offset ${start + i}`);
          break;
        }
        if (!Number.isSafeInteger(value)) throw this.corrupt('page-index', `value out of range at offset ${start + pos}`);
        pos = i;
        ended = take(value);
      }
      this.flushIndexPending();
      this.crc.update(view.subarray(0, pos));
      this.reader.skip(pos);
      // ...and one split across chunks, a byte at a time.
      if (!ended) ended = take(await this.readUvarint('page index'));
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
    const postApplyChecksum = trailer.readBigUInt64BE(0);
    const fileChecksum = trailer.readBigUInt64BE(8);
    if (!(await this.reader.atEnd())) throw this.corrupt('file', `unexpected bytes after the trailer at offset ${this.reader.offset}`);
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
      ...(this.pageCount > 0 && this.encoding !== undefined ? { pageEncoding: this.encoding } : {}),
    };
  }

  /** Stops reading early and releases the source. */
  async cancel(): Promise<void> {
    this.releaseLocal();
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

/** A batch as `batches()` yields it: views over the slot's records. */
function batchView(slot: BatchSlot, pageSize: number, encoding: PageEncoding, data: Uint8Array | undefined): LtxPageBatch {
  return {
    count: slot.frames,
    pageSize,
    encoding,
    pgno: (i) => slot.pgno(i),
    checksum: (i) => slot.checksum(i),
    frameOffset: (i) => slot.frameOffsets[i]!,
    frameSize: (i) => slot.frameSizes[i]!,
    data,
  };
}

/**
 * Decodes a whole LTX stream, checking everything, without keeping pages. With `pool`,
 * pages are decompressed and checksummed on its worker threads.
 */
export async function verifyLtx(source: AsyncIterable<Uint8Array>, options: { file?: string | undefined; pool?: PagePool | undefined } = {}): Promise<LtxDecodeResult> {
  const decoder = new LtxDecoder(source, options);
  try {
    await decoder.readHeader();
    for await (const _ of decoder.batches({ pool: options.pool }));
    return await decoder.finish();
  } finally {
    await decoder.cancel();
  }
}
