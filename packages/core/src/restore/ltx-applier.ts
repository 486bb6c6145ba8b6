import { open, type FileHandle } from 'node:fs/promises';
import { pageChecksum } from '../checksum/index.ts';
import { asLocalWriteError } from '../io/local-write-error.ts';
import { PageChecksums } from '../engine/page-checksums.ts';
import { CHECKSUM_FLAG, lockPgno } from '../ltx/constants.ts';
import { LtxDecoder, type LtxDecodeResult } from '../ltx/decoder.ts';
import type { PagePool } from '../ltx/page-batch.ts';
import { ChecksumMismatchError, LitestreamError, UsageError } from '../ltx/errors.ts';
import { hasNoChecksum, isSnapshot, type LtxHeader } from '../ltx/header.ts';
import type { Position } from '../ltx/position.ts';
import { formatTXID } from '../ltx/txid.ts';
import { readSqliteHeaderFrom } from '../sqlite/database-header.ts';

/** Start an early writeback after this many bytes (see `LtxApplier.apply`). */
const WRITEBACK_BYTES = 64 * 1024 * 1024;

/**
 * Applies LTX files, in order, to a database file: a snapshot first (or an existing
 * database), then incrementals or compacted files. Tracks every page's checksum so it can
 * check each file's pre-apply checksum against the database and the database against each
 * post-apply checksum. Pages are written as they are decoded; if any check fails the file
 * is left half-written, so callers write to a temporary path and rename on success.
 *
 * While a large file is written, an `fdatasync` runs in the background every 64 MiB, so
 * the disk writes overlap decoding instead of all waiting for the final `close({ sync })`.
 */
export class LtxApplier {
  private readonly path: string;
  /** What a failed write of the database says it was doing. */
  private readonly writing: string;
  /** The database named by errors about its content: the target, else `path`. */
  private readonly target: string;
  private fh: FileHandle | undefined;
  private pageSize = 0;
  private readonly sums = new PageChecksums();
  private txid = 0;
  private verifyChecksums = true;
  /** Size of the file as written (after the last file's truncate), so equal sizes skip the call. */
  private size = -1;
  /** Bytes written since the last early writeback was started. */
  private unflushed = 0;
  /** An `fdatasync` started while writing, so the final fsync has little left to wait for. */
  private flushing: Promise<unknown> | undefined;
  private flushError: unknown;

  /**
   * @param options.target the database `path` will become (a restore's output), named by
   *   the `LocalWriteError` of a failed write (a full disk, no permission).
   */
  constructor(path: string, options: { target?: string } = {}) {
    this.path = path;
    this.target = options.target ?? path;
    this.writing = options.target === undefined ? 'write the database' : `write the database being built for ${options.target}`;
  }

  /** TXID and database checksum reached so far. */
  get position(): Position {
    return { txid: this.txid, postApplyChecksum: this.databaseChecksum };
  }

  /** Checksum of the database as written so far (bit 63 set). */
  get databaseChecksum(): bigint {
    return this.sums.checksum;
  }

  /**
   * Starts from the database already at `path` (not a snapshot) at position `txid`.
   * Reads it once to learn each page's checksum. `options.page1` is page 1 as the replica's
   * files hold it, for a file whose own page 1 was changed since (a follow output's header
   * is rewritten for its readers): its checksum is taken from it instead of from the file.
   */
  async openExisting(txid: number, options: { page1?: Uint8Array } = {}): Promise<void> {
    await this.close({ sync: false });
    const fh = await open(this.path, 'r+');
    let header;
    try {
      header = await readSqliteHeaderFrom(fh, this.target);
    } catch (error) {
      await fh.close();
      throw error;
    }
    const { pageSize, pageCount } = header;
    this.fh = fh;
    this.size = (await this.fh.stat()).size;
    this.pageSize = pageSize;
    this.sums.clear();
    this.sums.resize(pageCount);
    const lock = lockPgno(pageSize);
    // 1 MiB at a time: one read per 256 pages of 4 KiB rather than one per page.
    const perRead = Math.max(1, Math.floor((1 << 20) / pageSize));
    const buf = Buffer.allocUnsafe(perRead * pageSize);
    for (let first = 1; first <= pageCount; first += perRead) {
      const count = Math.min(perRead, pageCount - first + 1);
      const { bytesRead } = await this.fh.read(buf, 0, count * pageSize, (first - 1) * pageSize);
      // Pages past the end of a short file read as zeros, as SQLite would see them.
      buf.fill(0, bytesRead, count * pageSize);
      for (let i = 0; i < count; i++) {
        const pgno = first + i;
        if (pgno !== lock) this.sums.set(pgno, pageChecksum(pgno, buf.subarray(i * pageSize, (i + 1) * pageSize)));
      }
    }
    if (options.page1 !== undefined) {
      if (options.page1.byteLength !== pageSize) throw new UsageError(`page 1 given for ${this.target} has ${options.page1.byteLength} bytes, not the page size ${pageSize}`);
      if (pageCount >= 1) this.sums.set(1, pageChecksum(1, options.page1));
    }
    this.txid = txid;
  }

  /**
   * Applies one LTX file read from `source`. Throws naming `name` on any failure. With
   * `pool`, pages are decompressed, checksummed and written by its worker threads.
   */
  async apply(source: AsyncIterable<Uint8Array>, name: string, options: { pool?: PagePool | undefined } = {}): Promise<LtxDecodeResult> {
    // A system error that did not come from reading the source came from writing the database.
    const sourceErrors = new WeakSet<object>();
    const decoder = new LtxDecoder(tagErrors(source, sourceErrors), { file: name });
    try {
      const header = await decoder.readHeader();
      await this.begin(header, name);
      const sums = this.sums;
      for await (const batch of decoder.batches({ fd: this.fh!.fd, pool: options.pool })) {
        // The decoder refuses the lock page, so every page here has a checksum to record.
        for (let i = 0; i < batch.count; i++) sums.set(batch.pgno(i), batch.checksum(i));
        this.unflushed += batch.count * batch.pageSize;
        if (this.unflushed >= WRITEBACK_BYTES) this.startWriteback();
      }
      const result = await decoder.finish();
      await this.end(header, result, name);
      return result;
    } catch (error) {
      throw typeof error === 'object' && error !== null && sourceErrors.has(error) ? error : asLocalWriteError(error, this.path, this.writing);
    } finally {
      await decoder.cancel();
    }
  }

  /**
   * The database checksum that applying the LTX file read from `source` would produce, with
   * the one the file records, worked out from the page checksums alone: nothing is written.
   * Lets a caller refuse a file that would not yield the state it records (a compacted file of
   * another chain overlapping the position) before touching the database. Reads the whole file.
   */
  async predict(source: AsyncIterable<Uint8Array>, name: string): Promise<{ readonly predicted: bigint; readonly recorded: bigint; readonly checksummed: boolean }> {
    const decoder = new LtxDecoder(source, { file: name });
    try {
      const header = await decoder.readHeader();
      const sums = this.sums;
      let xor = sums.checksum ^ CHECKSUM_FLAG;
      for await (const batch of decoder.batches()) {
        for (let i = 0; i < batch.count; i++) {
          const pgno = batch.pgno(i);
          xor ^= sums.get(pgno) ^ batch.checksum(i);
        }
      }
      // Pages past the file's commit leave the database.
      for (let pgno = header.commit + 1; pgno <= sums.commit; pgno++) xor ^= sums.get(pgno);
      const result = await decoder.finish();
      return { predicted: CHECKSUM_FLAG | xor, recorded: result.postApplyChecksum, checksummed: !hasNoChecksum(header) };
    } finally {
      await decoder.cancel();
    }
  }

  /** Flushes to disk and closes the file. */
  async close(options: { sync?: boolean } = {}): Promise<void> {
    if (!this.fh) return;
    const sync = options.sync ?? true;
    await this.flushing;
    this.flushing = undefined;
    const flushError = this.flushError;
    this.flushError = undefined;
    try {
      if (sync && flushError !== undefined) throw flushError;
      if (sync) await this.fh.sync();
    } catch (error) {
      await this.fh.close().catch(() => {});
      this.fh = undefined;
      this.size = -1;
      throw asLocalWriteError(error, this.path, this.writing);
    }
    await this.fh.close();
    this.fh = undefined;
    this.size = -1;
  }

  /** Starts an `fdatasync` in the background unless one is still running. */
  private startWriteback(): void {
    if (this.flushing !== undefined || this.fh === undefined) return;
    this.unflushed = 0;
    this.flushing = this.fh.datasync().then(
      () => (this.flushing = undefined),
      (error: unknown) => {
        this.flushError ??= error;
        this.flushing = undefined;
      },
    );
  }

  private async begin(header: LtxHeader, name: string): Promise<void> {
    if (isSnapshot(header)) {
      await this.close({ sync: false });
      this.fh = await open(this.path, 'w+');
      this.size = 0;
      this.pageSize = header.pageSize;
      this.sums.clear();
      this.sums.resize(header.commit);
      this.verifyChecksums = !hasNoChecksum(header);
      return;
    }
    if (!this.fh) throw new UsageError(`${name} is not a snapshot (min TXID ${formatTXID(header.minTXID)}) and no database was opened to apply it to`);
    if (header.pageSize !== this.pageSize) {
      throw new LitestreamError(`page size ${header.pageSize} differs from the database's ${this.pageSize}`, { file: name });
    }
    if (header.minTXID > this.txid + 1 || header.maxTXID <= this.txid) {
      throw new LitestreamError(`covers TXIDs ${formatTXID(header.minTXID)}..${formatTXID(header.maxTXID)} but the database is at TXID ${formatTXID(this.txid)}: it does not follow`, { file: name });
    }
    this.verifyChecksums = !hasNoChecksum(header);
    // A compacted file may overlap the position; its pre-apply checksum is then for an older state.
    if (this.verifyChecksums && header.minTXID === this.txid + 1 && header.preApplyChecksum !== this.databaseChecksum) {
      throw new ChecksumMismatchError('pre-apply', header.preApplyChecksum, this.databaseChecksum, {
        file: name,
        detail: `database at TXID ${formatTXID(this.txid)} is not the state this file was made from`,
      });
    }
    if (header.commit > this.sums.commit) this.sums.resize(header.commit);
  }

  private async end(header: LtxHeader, result: LtxDecodeResult, name: string): Promise<void> {
    if (header.commit < this.sums.commit) this.sums.resize(header.commit);
    // Pages never reach past commit, so the file is already this size unless commit changed.
    const size = header.commit * this.pageSize;
    if (size !== this.size) await this.fh!.truncate(size);
    this.size = size;
    this.txid = header.maxTXID;
    if (this.verifyChecksums && result.postApplyChecksum !== this.databaseChecksum) {
      throw new ChecksumMismatchError('post-apply', result.postApplyChecksum, this.databaseChecksum, {
        file: name,
        detail: `database after applying TXID ${formatTXID(header.maxTXID)} differs from what the file records`,
      });
    }
  }
}

/** Passes `source` through, remembering every error it throws in `errors`. */
async function* tagErrors(source: AsyncIterable<Uint8Array>, errors: WeakSet<object>): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } catch (error) {
    if (typeof error === 'object' && error !== null) errors.add(error);
    throw error;
  }
}
