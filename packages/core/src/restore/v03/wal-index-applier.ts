import type { FileHandle } from 'node:fs/promises';
import { parseWalHeader, walChecksum, WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE, type WalHeader } from '../../sqlite/wal.ts';

/** A WAL index's bytes break a rule; the caller names the segment they came from. */
export class WalIndexError extends Error {}

/**
 * Applies one Litestream v0.3 WAL index (the bytes of one SQLite `-wal` file, fed segment by
 * segment) to a database file, as a checkpoint would, but checking what SQLite would silently
 * stop at: the header's checksum, every frame's salts and running checksum, and that the bytes
 * end at a commit. (SQLite treats the first bad frame as the end of the WAL, which would turn a
 * damaged segment into an older database without a word.)
 *
 * Frames are written to a staging file as they arrive, and the staging offset of each page's
 * latest committed frame is remembered; `finish` copies those pages into the database in page
 * order and sets the database's size to the last commit's, which is what SQLite's checkpoint
 * leaves (frames past that size are dropped with the truncation). Memory: one frame, plus a
 * map entry per distinct page of the index.
 */
export class WalIndexApplier {
  private readonly db: FileHandle;
  private readonly staging: FileHandle;
  private readonly pageSize: number;
  private readonly frameSize: number;
  private header: WalHeader | undefined;
  private checksum: [number, number] = [0, 0];
  /** Bytes of the current header or frame received so far. */
  private readonly partial: Buffer;
  private filled = 0;
  private stagingEnd = 0;
  private readonly committed = new Map<number, number>();
  private readonly pending = new Map<number, number>();
  private pendingFrames = 0;
  private commitPages = 0;
  /** Bytes of the WAL index in whole headers and frames handled so far. */
  private offset = 0;
  /** Frames read, and transactions committed. */
  frames = 0;
  commits = 0;

  constructor(db: FileHandle, staging: FileHandle, pageSize: number) {
    this.db = db;
    this.staging = staging;
    this.pageSize = pageSize;
    this.frameSize = WAL_FRAME_HEADER_SIZE + pageSize;
    this.partial = Buffer.alloc(this.frameSize);
  }

  /** Takes the next bytes of the WAL index. Throws `WalIndexError` on a bad header or frame. */
  async write(chunk: Uint8Array): Promise<void> {
    let at = 0;
    while (at < chunk.byteLength) {
      const size = this.header ? this.frameSize : WAL_HEADER_SIZE;
      const take = Math.min(size - this.filled, chunk.byteLength - at);
      this.partial.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === size) {
        this.filled = 0;
        if (this.header) await this.frame(this.partial);
        else this.readHeader(this.partial.subarray(0, WAL_HEADER_SIZE));
      }
    }
  }

  /** Bytes of the WAL index received so far: the offset the next segment must start at. */
  get received(): number {
    return this.offset + this.filled;
  }

  /**
   * Ends the index: its bytes must end after a whole commit frame. Writes the committed pages
   * into the database and truncates (or extends) it to the last commit's size.
   */
  async finish(): Promise<void> {
    if (!this.header && this.filled === 0) throw new WalIndexError('the WAL holds no bytes, not even its header');
    if (this.filled > 0) throw new WalIndexError(`the WAL ends inside a ${this.header ? 'frame' : 'header'} (${this.filled} stray bytes at WAL offset ${this.offset})`);
    if (this.pendingFrames > 0) {
      throw new WalIndexError(`the WAL ends inside a transaction: ${this.pendingFrames} frame(s) after the last commit (at WAL offset ${this.offset}) are never committed`);
    }
    if (this.commits === 0) return;
    const page = Buffer.allocUnsafe(this.pageSize);
    for (const pgno of [...this.committed.keys()].sort((a, b) => a - b)) {
      if (pgno > this.commitPages) continue;
      await readFully(this.staging, page, this.committed.get(pgno)!);
      await writeFully(this.db, page, (pgno - 1) * this.pageSize);
    }
    await this.db.truncate(this.commitPages * this.pageSize);
  }

  private readHeader(bytes: Buffer): void {
    const header = parseWalHeader(bytes);
    if (!header) throw new WalIndexError('the WAL header is invalid (bad magic number, page size or checksum)');
    if (header.pageSize !== this.pageSize) {
      throw new WalIndexError(`the WAL has ${header.pageSize}-byte pages but the snapshot has ${this.pageSize}-byte pages`);
    }
    this.header = header;
    this.checksum = [header.checksum[0], header.checksum[1]];
    this.offset = WAL_HEADER_SIZE;
  }

  private async frame(frame: Buffer): Promise<void> {
    const header = this.header!;
    const pgno = frame.readUInt32BE(0);
    const commit = frame.readUInt32BE(4);
    const at = this.offset;
    if (frame.readUInt32BE(8) !== header.salt1 || frame.readUInt32BE(12) !== header.salt2) {
      throw new WalIndexError(`WAL frame at offset ${at} has salts that differ from the WAL header's (a frame of another WAL)`);
    }
    let sum = walChecksum(header.bigEndian, frame.subarray(0, 8), this.checksum[0], this.checksum[1]);
    sum = walChecksum(header.bigEndian, frame.subarray(WAL_FRAME_HEADER_SIZE), sum[0], sum[1]);
    if (sum[0] !== frame.readUInt32BE(16) || sum[1] !== frame.readUInt32BE(20)) {
      throw new WalIndexError(`WAL frame at offset ${at} (page ${pgno}) fails its checksum: the data is damaged`);
    }
    if (pgno === 0) throw new WalIndexError(`WAL frame at offset ${at} names page 0`);
    this.checksum = sum;
    await writeFully(this.staging, frame.subarray(WAL_FRAME_HEADER_SIZE), this.stagingEnd);
    this.pending.set(pgno, this.stagingEnd);
    this.stagingEnd += this.pageSize;
    this.pendingFrames++;
    this.frames++;
    this.offset += this.frameSize;
    if (commit !== 0) {
      for (const [p, offset] of this.pending) this.committed.set(p, offset);
      this.pending.clear();
      this.pendingFrames = 0;
      this.commitPages = commit;
      this.commits++;
    }
  }
}

async function readFully(handle: FileHandle, into: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < into.byteLength) {
    const { bytesRead } = await handle.read(into, done, into.byteLength - done, position + done);
    if (bytesRead === 0) throw new Error(`staging file ends at ${position + done}`);
    done += bytesRead;
  }
}

async function writeFully(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await handle.write(data, done, data.byteLength - done, position + done);
    done += bytesWritten;
  }
}
