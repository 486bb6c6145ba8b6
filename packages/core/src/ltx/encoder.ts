import { Crc64 } from '../checksum/index.ts';
import type { ByteSink } from '../io/byte-sink.ts';
import { ChunkOutput } from './chunk-output.ts';
import { CHECKSUM_FLAG, FRAME_HEADER_SIZE, PAGE_HEADER_SIZE, TRAILER_SIZE, lockPgno } from './constants.ts';
import { UsageError } from './errors.ts';
import { completeHeader, encodeHeader, hasNoChecksum, isSnapshot, type LtxHeader, type LtxHeaderInit } from './header.ts';
import { acquireLocalExecutor } from './local-executor.ts';
import { BatchJob, framesPerBatch, type BatchSlot, type EncodeOutcome, type LocalExecutor, type PagePool } from './page-batch.ts';
import { PageIndexBuilder } from './page-index.ts';

/** Options of an `LtxEncoder`. */
export interface LtxEncoderOptions {
  /** A name for error messages. */
  readonly file?: string;
  /** Output chunk size (default 1 MiB). */
  readonly chunkSize?: number;
  /**
   * Reuse output chunks once the sink is done with them (its write callback fired, or its
   * promise resolved), so a large file costs no garbage. Default: on for `fs.WriteStream`
   * sinks, off otherwise. Turn it on only for sinks that do not keep chunks (see `ChunkOutput`).
   */
  readonly recycleChunks?: boolean;
  /**
   * Worker threads for `writePages`: pages are compressed and checksummed there, several
   * batches at once, and written out in order. The caller owns the pool (and closes it).
   */
  readonly pool?: PagePool | undefined;
  /**
   * Called with each page's checksum, in page order, once its frame is written (for pages
   * given to `writePages`, whose promise resolves before they are encoded).
   */
  readonly onPageChecksum?: (pgno: number, checksum: bigint) => void;
}

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
 * Streams an LTX v3 file: pages in, bytes out to any writable. Memory is a few output
 * chunks, a few 1 MiB page batches and the page index (~7 bytes a page), never the file.
 * Pages must come in ascending order; a snapshot (minTXID 1) must hold every page from 1
 * to `commit` but the lock page.
 *
 * Pages are compressed (LZ4 block) and checksummed by the WebAssembly page kernel:
 * `writePage` one at a time, `writePages` a run at a time, in 1 MiB batches that a
 * `PageWorkerPool` spreads over worker threads while this thread writes the results out in
 * order. For large files (snapshots) use `writePages` with a pool.
 */
export class LtxEncoder {
  readonly header: LtxHeader;
  private readonly out: ChunkOutput;
  private readonly file: string | undefined;
  private readonly crc = new Crc64();
  private readonly index = new PageIndexBuilder();
  private readonly lockPgno: number;
  private readonly pool: PagePool | undefined;
  private readonly onPageChecksum: ((pgno: number, checksum: bigint) => void) | undefined;
  private local: LocalExecutor | undefined;
  /** Batches handed to workers (or encoded here out of order), written out in order. */
  private readonly inFlight: EncodeJob[] = [];
  /** Page numbers of the next batch, reused. */
  private pgnoScratch: Uint32Array | undefined;
  private headerWritten = false;
  private finished = false;
  private prevPgno = 0;
  /** Last page number accepted (may be ahead of `prevPgno`, the last written). */
  private acceptedPgno = 0;
  private dbChecksum = 0n;

  /**
   * @param sink a Node writable or a chunk callback; the encoder never ends it.
   * @param init header fields; `timestamp` defaults to now.
   */
  constructor(sink: ByteSink, init: LtxHeaderInit, options: LtxEncoderOptions = {}) {
    this.header = completeHeader(init);
    encodeHeader(this.header); // validates now, so a bad header fails before any byte is written
    this.out = new ChunkOutput(sink, options.chunkSize, options.recycleChunks);
    this.file = options.file;
    this.lockPgno = lockPgno(this.header.pageSize);
    this.pool = options.pool;
    this.onPageChecksum = options.onPageChecksum;
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
    await this.drain();
    await this.writeHeaderOnce();
    const local = (this.local ??= acquireLocalExecutor());
    const slot = local.take()!;
    slot.setPages(data, [pgno], 1);
    this.acceptedPgno = pgno;
    const outcome = local.encode(slot, this.header.pageSize, this.crc.state);
    const checksum = slot.checksum(0);
    await this.emit(new EncodeJob(slot, outcome, true));
    return checksum;
  }

  /**
   * Compresses and writes consecutive pages: `data` holds pages `firstPgno`, `firstPgno + 1`,
   * … end to end (a whole number of pages). The lock page, if the run covers it, is skipped:
   * a run read straight from a database file can be passed as it is. Pages are encoded in
   * batches of 1 MiB with the WebAssembly kernel, on the pool's workers when the encoder
   * has one; the promise resolves once `data` may be reused, before the pages are
   * necessarily written (`finish` writes the rest). Page checksums go to `onPageChecksum`.
   *
   * ```ts
   * const pool = new PageWorkerPool();
   * const encoder = new LtxEncoder(sink, header, { pool, onPageChecksum: (pgno, sum) => sums.set(pgno, sum) });
   * for (let first = 1; first <= commit; first += 256) await encoder.writePages(first, await readPages(first, 256));
   * await encoder.finish(post);
   * await pool.close();
   * ```
   */
  async writePages(firstPgno: number, data: Uint8Array): Promise<void> {
    const pageSize = this.header.pageSize;
    if (data.byteLength % pageSize !== 0) throw new UsageError(`writePages needs whole pages: ${data.byteLength} bytes is not a multiple of ${pageSize}`);
    const count = data.byteLength / pageSize;
    if (count === 0) return;
    this.checkRun(firstPgno, count);
    await this.writeHeaderOnce();
    const perBatch = framesPerBatch(pageSize);
    const pgnos = (this.pgnoScratch ??= new Uint32Array(perBatch));
    let i = 0;
    while (i < count) {
      // A batch: up to perBatch pages of the run, leaving out the lock page.
      let n = 0;
      let start = i;
      let end = i;
      while (end < count && n < perBatch) {
        const pgno = firstPgno + end;
        if (pgno === this.lockPgno) {
          if (n > 0) break;
          start = end + 1;
        } else {
          pgnos[n++] = pgno;
        }
        end++;
      }
      i = end;
      if (n === 0) continue;
      const slot = await this.takeSlot();
      slot.setPages(data.subarray(start * pageSize, (start + n) * pageSize), pgnos, n);
      this.acceptedPgno = pgnos[n - 1]!;
      await this.submit(slot, pageSize);
    }
  }

  /**
   * Compresses and writes pages that are not end to end in memory (the pages a WAL run
   * changed, say): `pgnos` in ascending order, the bytes of `pgnos[i]` given by `page(i)`,
   * copied into 1 MiB batches for the page kernel as `writePages` does, instead of one kernel
   * call per page. `page(i)` may reuse its buffer from one call to the next. Page checksums go
   * to `onPageChecksum`; without a pool they have all been reported when the promise resolves.
   */
  async writePageList(pgnos: ArrayLike<number>, page: (index: number) => Uint8Array): Promise<void> {
    if (pgnos.length === 0) return;
    await this.drain();
    await this.writeHeaderOnce();
    const pageSize = this.header.pageSize;
    const perBatch = framesPerBatch(pageSize);
    for (let i = 0; i < pgnos.length; ) {
      const slot = await this.takeSlot();
      let n = 0;
      for (; n < perBatch && i < pgnos.length; n++, i++) {
        const pgno = pgnos[i]!;
        const data = page(i);
        this.checkPage(pgno, data);
        slot.putPage(n, pgno, data);
        this.acceptedPgno = pgno;
      }
      await this.submit(slot, pageSize);
    }
  }

  /**
   * Writes the end of the page block, the page index and the trailer, and flushes.
   * For a snapshot the post-apply checksum is computed from the pages (a given value must
   * agree); other files need it from the caller unless the header has the no-checksum flag.
   */
  async finish(postApplyChecksum?: bigint): Promise<LtxEncodeResult> {
    if (this.finished) throw new UsageError('LTX encoder already finished');
    await this.drain();
    this.releaseLocal();
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
    if (data.byteLength !== h.pageSize) throw new UsageError(`page ${pgno} is ${data.byteLength} bytes, expected ${h.pageSize}`);
    if (pgno === this.lockPgno) throw new UsageError(`page ${pgno} is SQLite's lock page and is never stored`);
    this.checkRun(pgno, 1);
  }

  /** Checks that pages `first .. first + count - 1` (the lock page aside) may come next. */
  private checkRun(first: number, count: number): void {
    const h = this.header;
    if (this.finished) throw new UsageError('LTX encoder already finished');
    if (!Number.isInteger(first) || first < 1) throw new UsageError(`invalid page number ${first}`);
    // The lock page is skipped, so a run that starts on it really starts one later.
    const pgno = first === this.lockPgno && count > 1 ? first + 1 : first;
    const last = first + count - 1;
    if (last > h.commit) throw new UsageError(`page ${last} is beyond commit ${h.commit}${this.where()}`);
    const prev = this.acceptedPgno;
    if (isSnapshot(h)) {
      const expected = prev + 1 === this.lockPgno ? prev + 2 : prev + 1;
      if (pgno !== expected) throw new UsageError(`snapshot pages must be sequential: got ${pgno} after ${prev}, expected ${expected}`);
    } else if (pgno <= prev) {
      throw new UsageError(`pages must be in ascending order: got ${pgno} after ${prev}`);
    }
  }

  /** A slot for the next batch: a worker's when one is free, else this thread's; waits for the oldest batch when none is. */
  private async takeSlot(): Promise<BatchSlot> {
    const local = (this.local ??= acquireLocalExecutor());
    for (;;) {
      while (this.inFlight[0]?.done) await this.emit(this.inFlight.shift()!);
      const slot = this.pool?.take() ?? local.take();
      if (slot !== undefined) return slot;
      const oldest = this.inFlight.shift();
      if (oldest === undefined) throw new UsageError('LTX encoder has no free batch slot');
      await oldest.outcome;
      await this.emit(oldest);
    }
  }

  private async submit(slot: BatchSlot, pageSize: number): Promise<void> {
    const local = this.local!;
    if (slot.worker >= 0) {
      this.inFlight.push(new EncodeJob(slot, this.pool!.encode(slot, pageSize), false));
    } else if (this.pool !== undefined) {
      // Workers busy: this thread encodes the batch, from a zero register like theirs.
      this.inFlight.push(new EncodeJob(slot, local.encode(slot, pageSize, 0n), false));
    } else {
      // Alone: continue the file checksum straight through the batch and write it now.
      const outcome = local.encode(slot, pageSize, this.crc.state);
      await this.emit(new EncodeJob(slot, outcome, true));
    }
  }

  /** Writes a finished batch's frames, in page order, and folds it into the file state. */
  private async emit(job: EncodeJob): Promise<void> {
    const { slot } = job;
    try {
      const outcome = job.result!;
      const frames = slot.encodedFrames(outcome.bytes);
      const pageSize = this.header.pageSize;
      let offset = this.out.written;
      let p = 0;
      for (let i = 0; i < slot.frames; i++) {
        const size = FRAME_HEADER_SIZE + ((frames[p + 6]! << 24) | (frames[p + 7]! << 16) | (frames[p + 8]! << 8) | frames[p + 9]!);
        this.index.add(slot.pgno(i), offset, size);
        offset += size;
        p += size;
      }
      if (job.sequential) this.crc.setState(slot.segment());
      else this.crc.updateRaw(slot.segment(), slot.frames * (FRAME_HEADER_SIZE + pageSize));
      this.dbChecksum ^= slot.xor();
      this.prevPgno = slot.pgno(slot.frames - 1);
      if (this.onPageChecksum) for (let i = 0; i < slot.frames; i++) this.onPageChecksum(slot.pgno(i), slot.checksum(i));
      await this.out.write(frames);
    } finally {
      (slot.worker >= 0 ? this.pool! : this.local!).release(slot);
    }
  }

  /** Writes every batch still in flight, in order. */
  private async drain(): Promise<void> {
    while (this.inFlight.length > 0) {
      const oldest = this.inFlight.shift()!;
      try {
        await oldest.outcome;
      } catch (error) {
        // The batch failed on its worker: give its slot back, and those of the batches after it.
        (oldest.slot.worker >= 0 ? this.pool! : this.local!).release(oldest.slot);
        await this.abandon();
        throw error;
      }
      await this.emit(oldest);
    }
  }

  /** Waits for every batch in flight and drops them (after a failure). */
  private async abandon(): Promise<void> {
    const jobs = this.inFlight.splice(0);
    await Promise.allSettled(jobs.map((job) => job.outcome));
    for (const job of jobs) (job.slot.worker >= 0 ? this.pool! : this.local!).release(job.slot);
  }

  private releaseLocal(): void {
    this.local?.close();
    this.local = undefined;
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

/** A batch being encoded: done once its frames are in its slot. */
class EncodeJob extends BatchJob<EncodeOutcome> {
  /** The file checksum continued straight through it (this thread alone), rather than from zero. */
  readonly sequential: boolean;
  constructor(slot: BatchSlot, outcome: Promise<EncodeOutcome> | EncodeOutcome, sequential: boolean) {
    super(slot, outcome);
    this.sequential = sequential;
  }
}

function hex(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}
