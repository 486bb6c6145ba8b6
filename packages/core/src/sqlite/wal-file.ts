import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { errorCode } from '../io/durable.ts';
import { WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE, WalScanner, parseWalHeader, type WalCommitRun, type WalHeader, type WalStat } from './wal.ts';

/** New WAL bytes up to this size are read in one go and kept for encoding (no second read). */
const MAX_BUFFERED_REGION = 8 << 20;
/** A read buffer up to this size is kept however long the database stays idle. */
const KEPT_BUFFER = 64 << 10;
/** Larger regions are scanned in chunks of about this size, yielding to the event loop between them. */
const SCAN_CHUNK = 1 << 20;

/** Committed frames found by `WalFile.readCommitted`, with access to their pages. */
export interface WalRegion {
  readonly run: WalCommitRun;
  /**
   * The page whose data starts at `offset` (a value of `run.pages`). The buffer is a view
   * that stays valid until the next read from this `WalFile`.
   */
  page(offset: number): Buffer;
}

/**
 * A database's `-wal` file as the replicator reads it: one descriptor kept open (reopened
 * when the file is replaced, dropped when it disappears), a reusable read buffer, and small
 * synchronous reads from the page cache — cheaper than a thread-pool round trip per call,
 * which matters when a steady writer makes every second's sync read a little. Large
 * regions are read in chunks with the event loop given a turn between them.
 *
 * SQLite keeps its locks on the database and `-shm` files, never on the `-wal` file, so
 * opening and closing this descriptor cannot drop a lock.
 */
export class WalFile {
  readonly path: string;
  private fd: number | undefined;
  private ino: bigint | undefined;
  /** Size at the last `stat()`: new frames are read up to there (later ones wait for the next sync). */
  private size = 0;
  private buffer: Buffer = Buffer.alloc(0);
  /** When the buffer was last used, for `trim()`. */
  private bufferUsedAt = 0;
  private readonly scratch = Buffer.alloc(WAL_HEADER_SIZE);
  private pageScratch: Buffer = Buffer.alloc(0);

  constructor(path: string) {
    this.path = path;
  }

  /** The file's size at the last `stat()`: reads stop there. */
  get knownSize(): number {
    return this.size;
  }

  /**
   * Stats the WAL path and makes the descriptor follow it: opened when the file appears,
   * reopened when another file took its name, closed when it is gone. Undefined when absent.
   */
  stat(): WalStat | undefined {
    let stats;
    try {
      stats = statSync(this.path, { bigint: true });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
      this.close();
      return undefined;
    }
    this.size = Number(stats.size);
    if (this.fd === undefined || this.ino !== stats.ino) {
      this.close();
      try {
        this.fd = openSync(this.path, 'r');
      } catch (error) {
        if (errorCode(error) === 'ENOENT') return undefined;
        throw error;
      }
      // The name may have moved on between stat and open: trust what was opened.
      stats = fstatSync(this.fd, { bigint: true });
      this.ino = stats.ino;
      this.size = Number(stats.size);
    }
    return { ino: stats.ino, size: Number(stats.size), mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
  }

  /**
   * Stats the WAL path without touching the descriptor (safe while a read is under way):
   * for a quick "did anything change" check. Undefined when absent.
   */
  peek(): WalStat | undefined {
    const stats = statSync(this.path, { bigint: true, throwIfNoEntry: false });
    return stats && { ino: stats.ino, size: Number(stats.size), mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
  }

  /** The WAL header; undefined when the file is absent, empty or torn. Call `stat()` first. */
  readHeader(): WalHeader | undefined {
    if (this.fd === undefined) return undefined;
    const n = readSync(this.fd, this.scratch, 0, WAL_HEADER_SIZE, 0);
    return parseWalHeader(this.scratch.subarray(0, n));
  }

  /**
   * The running checksum stored in the frame that ends at `offset` (the seed for reading on
   * from there), or the header's when `offset` is the first frame. Undefined if that frame
   * no longer belongs to this WAL generation.
   */
  checksumAt(header: WalHeader, offset: number): readonly [number, number] | undefined {
    if (offset === WAL_HEADER_SIZE) return header.checksum;
    const frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
    if (this.fd === undefined || offset < WAL_HEADER_SIZE + frameSize || (offset - WAL_HEADER_SIZE) % frameSize !== 0) return undefined;
    const b = this.scratch;
    if (readSync(this.fd, b, 0, WAL_FRAME_HEADER_SIZE, offset - frameSize) < WAL_FRAME_HEADER_SIZE) return undefined;
    if (b.readUInt32BE(8) !== header.salt1 || b.readUInt32BE(12) !== header.salt2) return undefined;
    return [b.readUInt32BE(16), b.readUInt32BE(20)];
  }

  /**
   * Reads the frames after `offset` (seeded with the checksum there) up to the last valid
   * commit frame, or up to `endOffset`. Undefined when no commit frame follows `offset`.
   * Up to 8 MiB of new frames (as far as the last `stat()` saw the file) are read at once and
   * their pages served from memory; more are scanned in chunks up to the end of the file.
   */
  async readCommitted(header: WalHeader, offset: number, seed: readonly [number, number], options: { endOffset?: number } = {}): Promise<WalRegion | undefined> {
    if (this.fd === undefined) return undefined;
    const fd = this.fd;
    const frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
    const scanner = new WalScanner(header, offset, seed);
    const limit = options.endOffset ?? Infinity;
    const known = Math.min(this.size, limit) - offset;
    if (known <= MAX_BUFFERED_REGION) {
      const length = Math.max(0, Math.floor(known / frameSize) * frameSize);
      const buf = this.reserve(length);
      const n = length > 0 ? readSync(fd, buf, 0, length, offset) : 0;
      scanner.feed(buf.subarray(0, n));
      const run = scanner.run;
      return run && { run, page: (at) => buf.subarray(at - offset, at - offset + header.pageSize) };
    }
    // Too large to keep: scan chunk by chunk, then read pages again on demand.
    const chunkLength = Math.max(1, Math.floor(SCAN_CHUNK / frameSize)) * frameSize;
    const buf = this.reserve(chunkLength);
    while (scanner.open) {
      const want = Math.min(chunkLength, Math.floor((limit - scanner.offset) / frameSize) * frameSize);
      if (want <= 0) break;
      const n = readSync(fd, buf, 0, want, scanner.offset);
      if (n < frameSize) break;
      scanner.feed(buf.subarray(0, n));
      if (n < want) break;
      await yieldToEventLoop();
    }
    const run = scanner.run;
    return run && { run, page: (at) => this.readPage(at, header.pageSize) };
  }

  /**
   * Drops a large read buffer that has not been used for `idleMs`: a busy database keeps
   * its buffer (no garbage per sync), while thousands of idle ones do not each hold one.
   */
  trim(idleMs: number, now = Date.now()): void {
    if (this.buffer.byteLength > KEPT_BUFFER && now - this.bufferUsedAt > idleMs) this.buffer = Buffer.alloc(0);
  }

  /** Closes the descriptor (the next `stat()` reopens it). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.ino = undefined;
  }

  private readPage(offset: number, pageSize: number): Buffer {
    if (this.pageScratch.byteLength !== pageSize) this.pageScratch = Buffer.alloc(pageSize);
    const n = readSync(this.fd!, this.pageScratch, 0, pageSize, offset);
    if (n !== pageSize) throw new Error(`${this.path}: short read of ${n} bytes at offset ${offset}`);
    return this.pageScratch;
  }

  /** The reusable buffer, grown (to a power of two) when needed; kept between syncs. */
  private reserve(length: number): Buffer {
    this.bufferUsedAt = Date.now();
    if (this.buffer.byteLength < length) {
      let size = 16 << 10;
      while (size < length) size *= 2;
      // allocUnsafeSlow: its own ArrayBuffer, so the 4-byte alignment the scanner relies on holds.
      this.buffer = Buffer.allocUnsafeSlow(size);
    }
    return this.buffer;
  }
}
