import { createReadStream, closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { HEADER_SIZE, TRAILER_SIZE } from '../ltx/constants.ts';
import { verifyLtx } from '../ltx/decoder.ts';
import { decodeHeader, type LtxHeader } from '../ltx/header.ts';
import { formatLtxFilename, parseLtxFilename, parseTXID, formatTXID, type TXID } from '../ltx/txid.ts';
import type { ByteSink } from '../io/byte-sink.ts';
import { errorCode } from '../io/durable.ts';
import { asLocalWriteError } from '../io/local-write-error.ts';

/** An L0 file staged in the database's meta directory. */
export interface LocalLtxFile {
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
  readonly path: string;
}

/**
 * Where local replication state stands: the last staged file, or the last full image that
 * went straight to the replica without being staged. The WAL fields say which WAL frames the
 * state includes, so a restarted replicator can go on reading the WAL from there.
 */
export interface LocalPosition {
  readonly txid: TXID;
  readonly postApplyChecksum: bigint;
  readonly walSalt1: number;
  readonly walSalt2: number;
  readonly walOffset: number;
  readonly walSize: number;
  /** The LTX header timestamp, ms. */
  readonly timestamp: number;
}

/** Bytes of recently staged files kept in memory for their upload, at most this much in all. */
const MAX_CACHED_BYTES = 32 << 20;

/**
 * The local staging area `<meta>/ltx/0/`: L0 files written by syncs, waiting to be shipped
 * to replicas and kept for `l0-retention` after that, plus `<meta>/position.json`, the
 * record of a full image sent straight to the replica. Files appear by rename only.
 *
 * Durability: staged files are not fsynced. The replica is where durability is promised (the
 * file backend fsyncs what it stores); a staged file is a copy of WAL frames on their way. After
 * a crash the newest files may be missing or torn: a torn newest file reads as "no position"
 * (a full image follows), and a staged file read back from disk is verified before it is
 * uploaded (`verifiedBytes`), so a torn one is never shipped.
 */
export class LocalLtxFiles {
  readonly dir: string;
  private readonly positionPath: string;
  /** Bytes of files staged by this process and not yet uploaded, by path. */
  private readonly cache = new Map<string, Buffer>();
  private cachedBytes = 0;

  constructor(metaPath: string) {
    this.dir = join(metaPath, 'ltx', '0');
    this.positionPath = join(metaPath, 'position.json');
  }

  pathOf(minTXID: TXID, maxTXID: TXID): string {
    return join(this.dir, formatLtxFilename(minTXID, maxTXID));
  }

  /**
   * Staged files in the order they were made: by max TXID. (A full image written after
   * incrementals is a snapshot named 1-<max>, so sorting by min TXID would misplace it.)
   */
  async list(): Promise<LocalLtxFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((name) => ({ name, range: parseLtxFilename(name) }))
      .filter((e): e is { name: string; range: { minTXID: number; maxTXID: number } } => e.range !== undefined)
      .map((e) => ({ ...e.range, path: join(this.dir, e.name) }))
      .sort((a, b) => a.maxTXID - b.maxTXID || b.minTXID - a.minTXID);
  }

  /** Header and post-apply checksum of a staged file, read from its two ends. */
  async readEnds(file: LocalLtxFile): Promise<{ header: LtxHeader; postApplyChecksum: bigint; size: number }> {
    const cached = this.cache.get(file.path);
    if (cached) return { header: decodeHeader(cached.subarray(0, HEADER_SIZE), file.path), postApplyChecksum: cached.readBigUInt64BE(cached.byteLength - TRAILER_SIZE), size: cached.byteLength };
    const fh = await open(file.path, 'r');
    try {
      const { size } = await fh.stat();
      const head = Buffer.alloc(HEADER_SIZE);
      await fh.read(head, 0, HEADER_SIZE, 0);
      const tail = Buffer.alloc(TRAILER_SIZE);
      await fh.read(tail, 0, TRAILER_SIZE, size - TRAILER_SIZE);
      return { header: decodeHeader(head, file.path), postApplyChecksum: tail.readBigUInt64BE(0), size };
    } finally {
      await fh.close();
    }
  }

  /** The newest local position: the last staged file or the recorded full image, whichever is later. */
  async lastPosition(): Promise<LocalPosition | undefined> {
    const files = await this.list();
    const last = files[files.length - 1];
    const recorded = await this.readPositionRecord();
    if (!last) return recorded;
    if (recorded && recorded.txid > last.maxTXID) return recorded;
    const { header, postApplyChecksum } = await this.readEnds(last);
    return {
      txid: header.maxTXID,
      postApplyChecksum,
      walSalt1: header.walSalt1,
      walSalt2: header.walSalt2,
      walOffset: header.walOffset,
      walSize: header.walSize,
      timestamp: header.timestamp,
    };
  }

  /** Records a full image that was sent to the replica without being staged. */
  async recordPosition(position: LocalPosition): Promise<void> {
    const text = JSON.stringify({
      txid: formatTXID(position.txid),
      postApplyChecksum: position.postApplyChecksum.toString(16).padStart(16, '0'),
      walSalt1: position.walSalt1,
      walSalt2: position.walSalt2,
      walOffset: position.walOffset,
      walSize: position.walSize,
      timestamp: position.timestamp,
    });
    // Not fsynced: after a crash the record may be missing or torn, which reads as "no
    // record" and costs one full image, never a wrong position.
    const temp = `${this.positionPath}.${process.pid}.tmp`;
    try {
      await mkdir(dirname(this.positionPath), { recursive: true });
      await writeFile(temp, `${text}\n`);
      await rename(temp, this.positionPath);
    } catch (err) {
      await rm(temp, { force: true }).catch(() => {});
      throw asLocalWriteError(err, this.positionPath, 'record the local replication position');
    }
  }

  /** Streams a staged file from disk (see `cached` for the bytes of one still in memory). */
  open(file: LocalLtxFile): AsyncIterable<Uint8Array> {
    return createReadStream(file.path, { highWaterMark: 1 << 20 });
  }

  /** The bytes of a file this process staged and still holds in memory, if any. */
  cached(file: LocalLtxFile): Buffer | undefined {
    return this.cache.get(file.path);
  }

  /** The file reached the replica: its bytes need not stay in memory. */
  uploaded(file: LocalLtxFile): void {
    const bytes = this.cache.get(file.path);
    if (!bytes) return;
    this.cache.delete(file.path);
    this.cachedBytes -= bytes.byteLength;
  }

  /**
   * Stages a file whose bytes are at hand: written (synchronously: it is small and goes to
   * the page cache) and renamed into place; the bytes are kept in memory for the upload.
   */
  writeBytes(minTXID: TXID, maxTXID: TXID, bytes: Buffer): LocalLtxFile {
    const path = this.pathOf(minTXID, maxTXID);
    const temp = `${path}.${process.pid}.tmp`;
    try {
      try {
        writeWhole(temp, bytes);
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
        mkdirSync(this.dir, { recursive: true });
        writeWhole(temp, bytes);
      }
      renameSync(temp, path);
    } catch (err) {
      // The error of a write names no file: say which one, so a full disk is found at once.
      throw asLocalWriteError(err, path, 'stage an LTX file');
    }
    this.remember(path, bytes);
    return { minTXID, maxTXID, path };
  }

  /**
   * The whole content of a staged file for its upload: from memory when this process staged
   * it, else read back and verified (structure and every checksum), since a crash may have
   * left it torn. Throws `CorruptError`/`ChecksumMismatchError` naming the file.
   */
  async verifiedBytes(file: LocalLtxFile): Promise<Buffer> {
    const cached = this.cache.get(file.path);
    if (cached) return cached;
    const bytes = await readFile(file.path);
    await verifyLtx(Readable.from([bytes]), { file: file.path });
    return bytes;
  }

  /**
   * Writes a new file through a temporary name, then renames, so it appears whole or not at
   * all while the process runs. For files too large to hold in memory.
   */
  async write<T>(minTXID: TXID, maxTXID: TXID, produce: (sink: ByteSink) => Promise<T>): Promise<T> {
    const path = this.pathOf(minTXID, maxTXID);
    const temp = `${path}.${process.pid}.tmp`;
    const action = 'stage an LTX file';
    let fh;
    try {
      await mkdir(dirname(path), { recursive: true });
      fh = await open(temp, 'w');
    } catch (err) {
      throw asLocalWriteError(err, path, action);
    }
    try {
      let offset = 0;
      const result = await produce(async (chunk) => {
        try {
          await fh.write(chunk, 0, chunk.byteLength, offset);
        } catch (err) {
          throw asLocalWriteError(err, path, action);
        }
        offset += chunk.byteLength;
      });
      try {
        await fh.close();
        await rename(temp, path);
      } catch (err) {
        throw asLocalWriteError(err, path, action);
      }
      return result;
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(temp, { force: true });
      throw err;
    }
  }

  async remove(files: readonly LocalLtxFile[]): Promise<void> {
    for (const f of files) {
      this.uploaded(f);
      await rm(f.path, { force: true });
    }
  }

  /** Deletes temporary files a crash left behind. */
  async removeTemporaryFiles(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
  }

  /** Removes every staged file and the position record (for a reset). */
  async clear(): Promise<void> {
    this.cache.clear();
    this.cachedBytes = 0;
    await rm(this.dir, { recursive: true, force: true });
    await rm(this.positionPath, { force: true });
  }

  private remember(path: string, bytes: Buffer): void {
    this.cache.set(path, bytes);
    this.cachedBytes += bytes.byteLength;
    // While the replica is unreachable files pile up; the oldest are read back from disk later.
    for (const [p, b] of this.cache) {
      if (this.cachedBytes <= MAX_CACHED_BYTES) break;
      this.cache.delete(p);
      this.cachedBytes -= b.byteLength;
    }
  }

  private async readPositionRecord(): Promise<LocalPosition | undefined> {
    let text: string;
    try {
      text = await readFile(this.positionPath, 'utf8');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const r = JSON.parse(text) as Record<string, unknown>;
      const txid = parseTXID(String(r.txid));
      const fields = ['walSalt1', 'walSalt2', 'walOffset', 'walSize', 'timestamp'] as const;
      if (typeof r.postApplyChecksum !== 'string' || fields.some((f) => typeof r[f] !== 'number')) return undefined;
      return {
        txid,
        postApplyChecksum: BigInt(`0x${r.postApplyChecksum}`),
        walSalt1: r.walSalt1 as number,
        walSalt2: r.walSalt2 as number,
        walOffset: r.walOffset as number,
        walSize: r.walSize as number,
        timestamp: r.timestamp as number,
      };
    } catch {
      // A damaged record only costs a full image: the staged files still say where we were.
      return undefined;
    }
  }
}

/** Writes a whole file synchronously (a small one, to the page cache); removes it on failure. */
function writeWhole(path: string, bytes: Buffer): void {
  const fd = openSync(path, 'w');
  try {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
  } catch (err) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw err;
  }
  closeSync(fd);
}
