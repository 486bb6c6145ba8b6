import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { asLocalWriteError } from '../../io/local-write-error.ts';
import { syncDirectory } from '../../io/durable.ts';
import { HEADER_SIZE } from '../../ltx/constants.ts';
import { decodeHeader, hasNoChecksum, isSnapshot } from '../../ltx/header.ts';
import { formatTXID, type TXID } from '../../ltx/txid.ts';
import { ChecksumMismatchError, LitestreamError } from '../../ltx/errors.ts';
import { LtxApplier } from '../ltx-applier.ts';
import type { KnownStates } from './follow-plan.ts';
import { headerPageSize, HEADER_BYTES, writeReaderHeader } from './reader-header.ts';
import { WriteLock } from './write-lock.ts';

/**
 * One LTX file ready to apply, already open (a replica read in place may delete the file
 * meanwhile; the open descriptor keeps it readable), named `<level>/<min>-<max>.ltx`.
 */
export interface LocalLtxFile {
  readonly fh: FileHandle;
  readonly label: string;
}

/** What `FollowOutput.apply` did. */
export interface ApplyOutcome {
  /** Files applied before the batch ended. */
  readonly applied: number;
  /** Why a file could not be applied (nothing of it was written); the files after it were not tried. */
  readonly refused: Error | undefined;
  /** A file failed while being written and `repair` rebuilt the output. */
  readonly repaired: boolean;
}

/** Checksums remembered per TXID, to check compacted files that overlap the position. */
const KNOWN_LIMIT = 100_000;

/**
 * The database a follow-mode restore keeps up to date in place, for readers that have it
 * open. Every change is written under SQLite's exclusive lock (`WriteLock`) and ends with a
 * rewritten header (`writeReaderHeader`), so a reader sees the state before an update or the
 * state after it, never a mix; a reader holding the file open across updates sees each one
 * (the file is never replaced by another).
 *
 * It tracks each page's checksum through an `LtxApplier` (checking every file's pre- and
 * post-apply checksum) and the database checksum at every TXID it reached, so a compacted
 * file overlapping the position can be checked too.
 */
export class FollowOutput {
  readonly path: string;
  private readonly fh: FileHandle;
  private readonly lock: WriteLock;
  private applier: LtxApplier;
  private counter: number | undefined;
  private pageSize: number;
  /** True after a failed update could not be repaired: the output was emptied, and needs `replace`. */
  broken = false;
  /** Set by a `replace` under `apply`'s hold: the state to reopen once the lock is released. */
  private reopening: { txid: TXID; page1: Buffer } | undefined;
  private readonly known = new Map<TXID, bigint>();

  private constructor(path: string, fh: FileHandle, lock: WriteLock, applier: LtxApplier, counter: number, pageSize: number) {
    this.path = path;
    this.pageSize = pageSize;
    this.fh = fh;
    this.lock = lock;
    this.applier = applier;
    this.counter = counter;
    this.remember();
  }

  /**
   * Makes `output` hold the restored database at `staged` (a file beside it that the caller
   * built at TXID `txid`), and opens it for following. An output a follower wrote before (a
   * rollback-journal database) is updated in place, so its readers stay on it; anything else
   * (no output, a WAL database from elsewhere, with its `-wal`/`-shm`, or one SQLite cannot
   * read) is replaced by a rename. `staged` is consumed.
   */
  static async create(output: string, staged: string, txid: TXID): Promise<FollowOutput> {
    const page1 = await readPage1(staged);
    if (await isFollowerOutput(output)) {
      const lock = await WriteLock.open(output);
      let fh: FileHandle | undefined;
      try {
        fh = await open(output, 'r+');
        const counter = await lock.hold(() => copyChangedPages(staged, fh!, undefined));
        await rm(staged, { force: true });
        const applier = new LtxApplier(output);
        await applier.openExisting(txid, { page1 });
        return new FollowOutput(output, fh, lock, applier, counter, page1.byteLength);
      } catch (error) {
        lock.close();
        await fh?.close();
        // SQLite cannot read it (a follower killed while writing left it torn): replace it.
        if (!String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_')) throw error;
      }
    }
    const sfh = await open(staged, 'r+');
    let counter: number;
    try {
      counter = await writeReaderHeader(sfh, undefined);
      await sfh.sync();
    } finally {
      await sfh.close();
    }
    try {
      await Promise.all(['-wal', '-shm', '-journal'].map((suffix) => rm(output + suffix, { force: true })));
      await rename(staged, output);
      await syncDirectory(dirname(output));
    } catch (error) {
      throw asLocalWriteError(error, output, 'publish the restored database');
    }
    const fh = await open(output, 'r+');
    const lock = await WriteLock.open(output);
    const applier = new LtxApplier(output);
    try {
      await applier.openExisting(txid, { page1 });
    } catch (error) {
      lock.close();
      await fh.close();
      throw error;
    }
    return new FollowOutput(output, fh, lock, applier, counter, page1.byteLength);
  }

  /** TXID the output is at. */
  get txid(): TXID {
    return this.applier.position.txid;
  }

  /** TXIDs whose database checksum is remembered (for `planFollow`). */
  get knownTXIDs(): KnownStates {
    return this.known;
  }

  /**
   * Applies `files` in order under one hold of the lock. A file that does not continue the
   * output (see `refusal`, checked before any page is written) stops the batch: the files
   * before it stay applied and the reason is returned as `refused`. A file that fails once its
   * pages are being written leaves the output torn: `repair` is then called while the lock is
   * still held (readers keep waiting) and must make the output whole again (`replace` with
   * `lockHeld`); if it cannot, the output is emptied before the lock is released.
   */
  async apply(files: readonly LocalLtxFile[], repair: (error: unknown) => Promise<void>, options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<ApplyOutcome> {
    let applied = 0;
    let refused: Error | undefined;
    let repaired = false;
    await this.lock.hold(async () => {
      try {
        for (const file of files) {
          refused = await this.refusal(file.fh, file.label);
          if (refused !== undefined) break;
          try {
            await this.applier.apply(file.fh.createReadStream({ autoClose: false, start: 0 }), file.label);
          } catch (error) {
            // Pages may have been written: readers must not see the output until it is whole.
            repaired = true;
            try {
              await repair(error);
            } catch (repairError) {
              // Still torn, and the lock cannot be held forever: readers get an empty database
              // (their queries fail) rather than a mix of two states, until a restore succeeds.
              await this.fh.truncate(0);
              await this.fh.sync();
              this.broken = true;
              throw repairError;
            }
            return;
          }
          applied++;
          this.remember();
        }
      } finally {
        // Whatever stopped the batch, what was applied is published before readers get in.
        if (applied > 0 && !repaired) await this.publish();
      }
    }, options);
    if (this.reopening) await this.reopen(this.reopening.txid, this.reopening.page1);
    return { applied, refused, repaired };
  }

  /**
   * Replaces the output's content with the database at `staged` (built at TXID `txid`), in
   * place, writing only the pages that differ; `staged` is consumed. With `lockHeld` (from
   * `apply`'s `repair`) it copies under the caller's hold and `apply` reopens the pages'
   * checksums after releasing it, since reading them opens and closes a descriptor.
   */
  async replace(staged: string, txid: TXID, options: { lockHeld?: boolean; signal?: AbortSignal; onWait?: () => void } = {}): Promise<void> {
    const page1 = await readPage1(staged);
    const copy = async () => {
      this.counter = await copyChangedPages(staged, this.fh, this.counter);
    };
    if (options.lockHeld) await copy();
    else await this.lock.hold(copy, options);
    await rm(staged, { force: true });
    if (options.lockHeld) this.reopening = { txid, page1 };
    else await this.reopen(txid, page1);
  }

  private async reopen(txid: TXID, page1: Buffer): Promise<void> {
    this.reopening = undefined;
    await this.applier.close({ sync: false }).catch(() => {});
    const applier = new LtxApplier(this.path);
    await applier.openExisting(txid, { page1 });
    this.applier = applier;
    this.pageSize = page1.byteLength;
    this.broken = false;
    this.known.clear();
    this.remember();
  }

  /**
   * Why the LTX file open at `fh` cannot be applied to the output now, checked before a page
   * is written: another page size, a TXID range that does not continue the position, a
   * pre-apply checksum that is not the output's (at the position, or remembered for the TXID
   * before an overlapping compacted file), or, for an overlapping file whose starting state is
   * not remembered, a result that would not be the state it records. Undefined when it can.
   */
  private async refusal(fh: FileHandle, label: string): Promise<Error | undefined> {
    const buf = Buffer.alloc(HEADER_SIZE);
    await fh.read(buf, 0, HEADER_SIZE, 0);
    const header = decodeHeader(buf, label);
    const txid = this.txid;
    if (header.pageSize !== this.pageSize) return new LitestreamError(`page size ${header.pageSize} differs from the follow output's ${this.pageSize}`, { file: label });
    if (isSnapshot(header) || header.minTXID > txid + 1 || header.maxTXID <= txid) {
      return new LitestreamError(`covers TXIDs ${formatTXID(header.minTXID)}..${formatTXID(header.maxTXID)} but the follow output is at TXID ${formatTXID(txid)}: it does not follow`, { file: label });
    }
    if (hasNoChecksum(header)) return undefined;
    const expected = header.minTXID === txid + 1 ? this.applier.databaseChecksum : this.known.get(header.minTXID - 1);
    if (expected === undefined) {
      // An overlapping file from a state not remembered: its result must be the state it records.
      const { predicted, recorded } = await this.applier.predict(fh.createReadStream({ autoClose: false, start: 0 }), label);
      if (predicted === recorded) return undefined;
      return new ChecksumMismatchError('post-apply', recorded, predicted, { file: label, detail: `applied over the follow output at TXID ${formatTXID(txid)} it would not give the state it records: it belongs to another chain` });
    }
    if (header.preApplyChecksum !== expected) {
      return new ChecksumMismatchError('pre-apply', header.preApplyChecksum, expected, { file: label, detail: `the follow output at TXID ${formatTXID(header.minTXID - 1)} is not the state this file was made from` });
    }
    return undefined;
  }

  /** Syncs and closes the output (the lock's connection first: closing a descriptor drops its locks). */
  async close(): Promise<void> {
    this.lock.close();
    await this.applier.close({ sync: true }).catch(() => {});
    await this.fh.sync().catch(() => {});
    await this.fh.close();
  }

  private async publish(): Promise<void> {
    try {
      this.counter = await writeReaderHeader(this.fh, this.counter);
      await this.fh.datasync();
    } catch (error) {
      throw asLocalWriteError(error, this.path, 'write the follow output');
    }
  }

  private remember(): void {
    const { txid, postApplyChecksum } = this.applier.position;
    this.known.set(txid, postApplyChecksum);
    if (this.known.size > KNOWN_LIMIT) this.known.delete(this.known.keys().next().value!);
  }
}

/** True when `path` exists as a database a follower wrote: rollback-journal header, no WAL beside it. */
async function isFollowerOutput(path: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await fh.read(header, 0, HEADER_BYTES, 0);
    if (bytesRead < HEADER_BYTES || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return false;
    if (header[18] !== 1 || header[19] !== 1) return false;
  } finally {
    await fh.close();
  }
  try {
    await open(path + '-wal', 'r').then((f) => f.close());
    return false;
  } catch {
    return true;
  }
}

async function readPage1(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, HEADER_BYTES, 0);
    const page = Buffer.alloc(headerPageSize(header));
    await fh.read(page, 0, page.byteLength, 0);
    return page;
  } finally {
    await fh.close();
  }
}

/**
 * Writes into `out` every page of `staged` that differs, truncates it to `staged`'s size and
 * rewrites the header for readers (returning the counter written). Caller holds the lock.
 */
async function copyChangedPages(staged: string, out: FileHandle, previousCounter: number | undefined): Promise<number> {
  const src = await open(staged, 'r');
  try {
    const first = Buffer.alloc(HEADER_BYTES);
    await src.read(first, 0, HEADER_BYTES, 0);
    const pageSize = headerPageSize(first);
    const { size } = await src.stat();
    // Readers cached pages under the output's counter: the new one must differ from it.
    const own = Buffer.alloc(HEADER_BYTES);
    const { bytesRead: ownBytes } = await out.read(own, 0, HEADER_BYTES, 0);
    const counter = previousCounter ?? (ownBytes === HEADER_BYTES ? own.readUInt32BE(24) : 0);
    const perRead = Math.max(1, Math.floor((1 << 20) / pageSize));
    const a = Buffer.alloc(perRead * pageSize);
    const b = Buffer.alloc(perRead * pageSize);
    for (let offset = 0; offset < size; offset += a.byteLength) {
      const length = Math.min(a.byteLength, size - offset);
      await src.read(a, 0, length, offset);
      const { bytesRead } = await out.read(b, 0, length, offset);
      b.fill(0, bytesRead, length);
      for (let p = 0; p < length; p += pageSize) {
        const end = Math.min(p + pageSize, length);
        if (a.compare(b, p, end, p, end) !== 0) await out.write(a, p, end - p, offset + p);
      }
    }
    await out.truncate(size);
    const written = await writeReaderHeader(out, counter);
    await out.sync();
    return written;
  } catch (error) {
    throw error instanceof LitestreamError ? error : asLocalWriteError(error, staged, 'copy the restored database into the follow output');
  } finally {
    await src.close();
  }
}
