import { open, stat, type FileHandle } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import { pageChecksum } from '../checksum/index.ts';
import type { ByteSink } from '../io/byte-sink.ts';
import { LtxEncoder, type LtxEncodeResult } from '../ltx/encoder.ts';
import { defaultPageWorkers, PageWorkerPool } from '../ltx/page-workers.ts';
import { CHECKSUM_FLAG } from '../ltx/constants.ts';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import type { LtxHeaderInit } from '../ltx/header.ts';
import { formatLtxFilename, formatTXID, type TXID } from '../ltx/txid.ts';
import type { Position } from '../ltx/position.ts';
import { readSqliteHeaderFrom } from '../sqlite/database-header.ts';
import { WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE, type WalHeader, type WalStat } from '../sqlite/wal.ts';
import { WalFile, type WalRegion } from '../sqlite/wal-file.ts';
import { CheckpointSchedule } from './checkpoint-schedule.ts';
import { forEachDatabasePage, forEachDatabaseRun, type PageOverlay } from './database-pages.ts';
import { DB_DEFAULTS, type DBOptions } from './db-options.ts';
import { LocalLtxFiles, type LocalLtxFile } from './local-ltx-files.ts';
import { silentLogger, type Logger } from './logger.ts';
import { noMetrics, type EngineMetrics } from './metrics.ts';
import { PageChecksums } from './page-checksums.ts';

/** Where the last L0 file left the database: its TXID and checksum, and the WAL point it reached. */
interface SyncPoint extends Position {
  readonly salt1: number;
  readonly salt2: number;
  /** WAL offset just past the last copied commit frame; 0 means "the main file alone is the state". */
  readonly walOffset: number;
}

/** What one sync did. */
export interface SyncResult {
  readonly txid: number;
  /** The staged file; absent for a full image that went straight to the replica. */
  readonly file?: LocalLtxFile;
  readonly kind: 'snapshot' | 'incremental' | 'full-image';
  readonly pages: number;
  readonly bytes: number;
}

/**
 * Takes a full image (TXIDs 1..`maxTXID`) somewhere other than the staging directory — the
 * replica sets one so snapshots stream straight to storage instead of being written locally
 * and copied. It runs `produce` with a sink and resolves with its result once stored.
 */
export type FullImageSink = (
  ref: { readonly maxTXID: TXID; readonly timestamp: Date },
  /** Encodes into `sink`; `recycleChunks` when the sink is done with each chunk once its promise resolves. */
  produce: (sink: ByteSink, options: { recycleChunks: boolean }) => Promise<LtxEncodeResult>,
) => Promise<LtxEncodeResult>;

/** Incremental files up to this many page bytes are encoded in memory and staged in one write. */
const MAX_IN_MEMORY_PAGES_BYTES = 8 << 20;
/**
 * A file's mtime this close to the moment we read it may be followed by another write in
 * the same timestamp tick (file systems stamp with a coarse clock), so it proves nothing.
 */
const RACY_MTIME_NS = 50_000_000n;

/**
 * Output chunk of a full image: large enough that writes stay cheap, small enough that the two
 * chunks in circulation weigh little next to the snapshot's other buffers.
 */
const FULL_IMAGE_CHUNK = 256 << 10;
/** Full images at least this large are encoded on worker threads. */
const WORKER_IMAGE_BYTES = 64 << 20;
/** A database idle this long gives back its large WAL read buffer. */
const IDLE_BUFFER_MS = 30_000;

/** better-sqlite3, loaded by the first `open()`: code that only restores never pays for it. */
let sqlite: typeof Database | undefined;
async function loadSqlite(): Promise<typeof Database> {
  return (sqlite ??= (await import('better-sqlite3')).default);
}

/** Thrown inside a checkpoint's write barrier when a full image turns out to be needed. */
class FullImageDeferred extends Error {}

/**
 * One replicated SQLite database. Holds a read transaction so no checkpoint can pass WAL
 * frames it has not copied, reads the `-wal` file directly, and on each `sync()` turns the
 * frames committed since the previous sync into one L0 LTX file with the next TXID in the
 * meta directory. It owns checkpointing. When the WAL or the database changed behind its
 * back in a way it cannot follow frame by frame, it writes a full image of the database
 * (every page) as the next TXID, so the chain stays restorable.
 *
 * An unchanged `-wal` file (same inode, size, mtime and ctime, with an mtime old enough to
 * be trusted) makes `sync()` return at the cost of one `stat`, so idle databases are cheap.
 */
export class DB {
  readonly path: string;
  readonly walPath: string;
  readonly metaPath: string;
  readonly local: LocalLtxFiles;
  /** Where full images go; when unset they are staged like any other file. */
  fullImageSink: FullImageSink | undefined;
  private readonly options: Required<Omit<DBOptions, 'metaPath' | 'logger' | 'metrics'>>;
  private readonly logger: Logger;
  private readonly metrics: EngineMetrics;
  private conn: Database.Database | undefined;
  /**
   * The one descriptor we read the database file through, open from `open()` to `close()`.
   * Closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's
   * included; opening and closing the file per read let another process think it was alone
   * and delete the WAL under a live connection (seen in tests). So it is opened once.
   */
  private file: FileHandle | undefined;
  private readonly wal: WalFile;
  private pageSize = 0;
  private point: SyncPoint | undefined;
  private sums = new PageChecksums();
  /** Set when the next sync must write a full image, with the reason for the log. */
  private fullImageReason: string | undefined;
  /** The replica is ahead of local state: the next file must follow this position. */
  private floor: Position | undefined;
  private readonly checkpoints: CheckpointSchedule;
  /**
   * After a complete checkpoint of everything copied, taken while no one could write, the
   * WAL generation we left may be restarted by anyone without losing a frame: SQLite
   * restarts only a fully backfilled WAL, and our read lock (re-taken on the backfilled
   * state) blocks any further backfill. A restart seen while still at this point is safe.
   */
  private safeRestart: { readonly salt1: number; readonly salt2: number; readonly walOffset: number } | undefined;
  /** How the `-wal` file looked (null: absent) when a sync last read all of it; undefined when unknown. */
  private quiet: WalStat | null | undefined;
  /** Where small incremental files are encoded; kept between syncs (given back after 30 s idle). */
  private encodeBuffer: Buffer = Buffer.alloc(0);
  /** When the last incremental file was made. */
  private lastFileAt = 0;
  /** True while a checkpoint holds the write barrier: a full image must wait until it is released. */
  private deferFullImages = false;
  /** Syncs, checkpoints and close run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, options: DBOptions = {}) {
    this.path = path;
    this.walPath = `${path}-wal`;
    this.metaPath = options.metaPath ?? defaultMetaPath(path);
    this.local = new LocalLtxFiles(this.metaPath);
    this.wal = new WalFile(this.walPath);
    this.options = {
      busyTimeout: options.busyTimeout ?? DB_DEFAULTS.busyTimeout,
      minCheckpointPageCount: options.minCheckpointPageCount ?? DB_DEFAULTS.minCheckpointPageCount,
      checkpointInterval: options.checkpointInterval ?? DB_DEFAULTS.checkpointInterval,
      truncatePageN: options.truncatePageN ?? DB_DEFAULTS.truncatePageN,
      maxSyncWalBytes: options.maxSyncWalBytes ?? DB_DEFAULTS.maxSyncWalBytes,
    };
    if (!(Number.isSafeInteger(this.options.maxSyncWalBytes) && this.options.maxSyncWalBytes >= 0)) {
      throw new UsageError(`maxSyncWalBytes must be a whole number of bytes, 0 or more (0: no limit), got ${this.options.maxSyncWalBytes}`);
    }
    this.checkpoints = new CheckpointSchedule(this.options);
    this.logger = (options.logger ?? silentLogger).child({ db: path });
    this.metrics = options.metrics ?? noMetrics;
  }

  /** Local position (TXID and checksum of the last staged file), once known. */
  get position(): Position | undefined {
    return this.point && { txid: this.point.txid, postApplyChecksum: this.point.postApplyChecksum };
  }

  /** True while the next sync must write a full image (none written yet, or the chain was lost). */
  get fullImagePending(): boolean {
    return this.fullImageReason !== undefined || this.point === undefined;
  }

  /**
   * True when a sync now would find nothing to do: no full image pending, no checkpoint due,
   * and the `-wal` file unchanged since a sync read all of it. Costs one `stat`.
   */
  idle(): boolean {
    if (!this.conn || this.fullImageReason || !this.point || this.quiet === undefined) return false;
    if (this.checkpoints.due(this.walFrameCount()) !== undefined) return false;
    if (!sameWal(this.quiet, this.wal.peek() ?? null)) return false;
    this.wal.trim(IDLE_BUFFER_MS);
    if (this.encodeBuffer.byteLength > 0 && Date.now() - this.lastFileAt > IDLE_BUFFER_MS) this.encodeBuffer = Buffer.alloc(0);
    return true;
  }

  get isOpen(): boolean {
    return this.conn !== undefined;
  }

  /**
   * Opens the database in WAL mode, creates Litestream's bookkeeping tables, takes the read
   * lock and recovers the position from the staged files (checking it against the database).
   */
  async open(): Promise<void> {
    if (this.conn) return;
    await stat(this.path).catch((cause: NodeJS.ErrnoException) => {
      throw new LitestreamError(cause.code === 'ENOENT' ? 'database does not exist' : `cannot open database: ${cause.message}`, { file: this.path, cause });
    });
    await loadSqlite();
    let conn: Database.Database | undefined;
    try {
      conn = this.connect();
      const before = String(conn.pragma('journal_mode', { simple: true })).toLowerCase();
      const mode = conn.pragma('journal_mode = wal', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new LitestreamError(`cannot switch to WAL mode (journal_mode is ${String(mode)})`, { file: this.path });
      // As Litestream does, but not silently: the switch is persistent and every connection sees it.
      if (before !== 'wal') this.logger.warn('database switched to WAL mode for replication; it stays in WAL mode', { from: before });
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)');
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER)');
      this.pageSize = Number(conn.pragma('page_size', { simple: true }));
    } catch (err) {
      conn?.close();
      // SQLite's own errors ("file is not a database", "database or disk is full") name no file.
      if (err instanceof LitestreamError) throw err;
      throw new LitestreamError(`cannot open database: ${(err as Error).message}`, { file: this.path, cause: err });
    }
    this.conn = conn;
    this.file = await open(this.path, 'r');
    this.acquireReadLock();
    await this.local.removeTemporaryFiles();
    await this.recoverPosition();
    this.logger.info('initialized db', { metaPath: this.metaPath, txid: this.point?.txid ?? 0 });
  }

  /**
   * Tells the DB what the replica already holds. If local state is behind it (for example the
   * meta directory was deleted), the next sync writes a full image that follows the replica.
   */
  followReplica(position: Position): void {
    const local = this.point;
    if (!local || local.txid < position.txid || (local.txid === position.txid && local.postApplyChecksum !== position.postApplyChecksum)) {
      this.floor = position;
      this.fullImageReason = local
        ? local.txid < position.txid
          ? `local position ${formatTXID(local.txid)} is behind the replica (${formatTXID(position.txid)})`
          : `local state at ${formatTXID(local.txid)} differs from the replica's`
        : `no local state; the replica is at ${formatTXID(position.txid)}`;
    }
  }

  /** Makes the next sync write a snapshot of the whole database (after the current TXID). */
  requestSnapshot(reason: string): void {
    this.fullImageReason = reason;
  }

  /**
   * Copies every frame committed since the last sync into one L0 file. Returns undefined
   * when nothing was committed (an idle database costs one `stat` of its WAL, no file).
   */
  sync(): Promise<SyncResult | undefined> {
    return this.exclusive(() => this.syncOnce());
  }

  /**
   * Syncs, then checkpoints when due: PASSIVE once `minCheckpointPageCount` frames were copied
   * since the last checkpoint, or after `checkpointInterval` if any frame was; TRUNCATE once
   * the WAL generation reaches `truncatePageN` frames. With nothing copied, nothing is due.
   */
  syncAndMaybeCheckpoint(): Promise<SyncResult | undefined> {
    return this.exclusive(async () => {
      const result = await this.syncOnce();
      const mode = this.checkpoints.due(this.walFrameCount());
      if (mode) await this.checkpointNow(mode);
      return result;
    });
  }

  /**
   * Checkpoints the WAL after copying it. PASSIVE runs behind a write barrier (another
   * connection holding the write lock) so no commit can slip between the last copy and the
   * checkpoint, and the read lock is taken again before the barrier goes; TRUNCATE cannot
   * (it needs the write lock itself), so afterwards the database is compared with the copied
   * state and a full image is written if they differ.
   */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void> {
    return this.exclusive(() => this.checkpointNow(mode));
  }

  private async checkpointNow(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void> {
    await this.syncOnce();
    // A pending full image goes first; the barrier must never be held while one is written.
    if (this.fullImageReason || !this.point) return;
    let error = false;
    try {
      if (mode === 'PASSIVE') await this.passiveCheckpoint();
      else await this.truncateCheckpoint();
    } catch (err) {
      error = true;
      this.logger.warn('checkpoint failed', { mode, error: (err as Error).message });
    } finally {
      this.checkpoints.checkpointed();
      this.metrics.checkpoint(this.path, mode, error);
    }
  }

  /** Releases the read lock and closes the connections. Staged files stay for the next start. */
  close(): Promise<void> {
    return this.exclusive(async () => this.closeNow());
  }

  private async closeNow(): Promise<void> {
    if (!this.conn) return;
    this.releaseReadLock();
    this.conn.close();
    this.conn = undefined;
    this.wal.close();
    // In a process that keeps other connections to this database, this close drops their POSIX
    // locks too (see `file`); that only matters if yet another process uses the database.
    await this.file?.close();
    this.file = undefined;
  }

  private async passiveCheckpoint(): Promise<void> {
    // A second connection of ours holds the write lock; it lives only for the checkpoint, so an
    // idle database keeps one connection (opening one costs well under a millisecond).
    const barrier = this.connect();
    try {
      barrier.exec('BEGIN IMMEDIATE');
    } catch (err) {
      barrier.close();
      this.logger.debug('checkpoint skipped: the database is busy', { error: (err as Error).message });
      return;
    }
    try {
      this.deferFullImages = true;
      try {
        await this.syncOnce();
      } finally {
        this.deferFullImages = false;
      }
      const copied = this.point!;
      this.releaseReadLock();
      let row: { busy: number; log: number; checkpointed: number } | undefined;
      try {
        row = (this.conn!.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
      } finally {
        // Still under the barrier: the read lock sees exactly the copied state.
        this.acquireReadLock();
      }
      const complete = row !== undefined && row.busy === 0 && row.log >= 0 && row.log === row.checkpointed;
      this.safeRestart = complete && copied.walOffset > 0 ? { salt1: copied.salt1, salt2: copied.salt2, walOffset: copied.walOffset } : undefined;
      this.logger.debug('checkpoint completed', { mode: 'PASSIVE', walFrames: row?.log, checkpointed: row?.checkpointed, complete });
    } catch (err) {
      if (!(err instanceof FullImageDeferred)) throw err;
      this.logger.debug('checkpoint skipped: a full image is due first', { reason: err.message });
    } finally {
      if (barrier.inTransaction) barrier.exec('ROLLBACK');
      barrier.close();
    }
  }

  private async truncateCheckpoint(): Promise<void> {
    const before = this.wal.stat() && this.wal.readHeader();
    this.releaseReadLock();
    let row: { busy: number; log: number; checkpointed: number } | undefined;
    try {
      row = (this.conn!.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>)[0];
    } finally {
      if (this.conn) this.acquireReadLock();
    }
    const after = this.wal.stat() && this.wal.readHeader();
    const restarted = !after || !before || after.salt1 !== before.salt1 || after.salt2 !== before.salt2;
    if (restarted && this.point) {
      if (await this.databaseFileMatches()) {
        this.point = { ...this.point, salt1: 0, salt2: 0, walOffset: 0 };
        this.safeRestart = undefined;
      } else {
        this.fullImageReason = 'commits landed between the last copy and a TRUNCATE checkpoint';
      }
    }
    this.logger.info('checkpoint completed', { mode: 'TRUNCATE', walFrames: row?.log, checkpointed: row?.checkpointed, restarted });
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    await this.open();
    const started = performance.now();
    try {
      const result = await this.syncWal();
      if (result) {
        this.metrics.txid(this.path, result.txid);
        this.logger.debug('sync', { txid: formatTXID(result.txid), kind: result.kind, pages: result.pages, bytes: result.bytes });
        this.recordSizes();
      }
      this.metrics.sync(this.path, (performance.now() - started) / 1000, false);
      return result;
    } catch (err) {
      this.quiet = undefined;
      if (err instanceof FullImageDeferred) throw err;
      this.metrics.sync(this.path, (performance.now() - started) / 1000, true);
      // In-memory state may be half updated; derive it again from the staged files next time.
      this.point = undefined;
      this.sums.clear();
      this.safeRestart = undefined;
      await this.recoverPosition().catch(() => {});
      throw err;
    }
  }

  /** The idle check, then a real sync; remembers the WAL's signature when it can be trusted. */
  private async syncWal(): Promise<SyncResult | undefined> {
    const now = BigInt(Date.now()) * 1_000_000n;
    const walStat = this.wal.stat() ?? null;
    if (this.quiet !== undefined && sameWal(this.quiet, walStat) && !this.fullImageReason && this.point) return undefined;
    this.quiet = undefined;
    const result = await this.syncWalNow();
    // Any later write changes these, unless it lands in the same mtime tick as the last one
    // we saw: a stat that young is not trusted, the next sync reads again.
    if (!walStat || now - walStat.mtimeNs > RACY_MTIME_NS) this.quiet = walStat;
    return result;
  }

  private async syncWalNow(): Promise<SyncResult | undefined> {
    let header = this.wal.readHeader();
    if (this.fullImageReason || !this.point) return this.writeFullImage(header, this.fullImageReason ?? 'initial snapshot');
    let seed: readonly [number, number] | undefined;
    if (header && !this.isRestart(header)) {
      seed = this.wal.checksumAt(header, this.point.walOffset);
      // The WAL may have restarted (and overwritten that frame) since its header was read.
      if (!seed) header = this.wal.readHeader();
    }
    let point = this.point;
    if (!header) {
      // No WAL content: the main file is the whole state. It may only have changed through
      // a checkpoint of frames we copied, unless someone removed or truncated the WAL.
      if (point.walOffset > WAL_HEADER_SIZE) {
        if (!this.restartIsSafe(point) && !(await this.databaseFileMatches())) return this.writeFullImage(header, 'the WAL disappeared before all of it was copied');
        this.point = { ...point, salt1: 0, salt2: 0, walOffset: 0 };
        this.safeRestart = undefined;
      }
      return undefined;
    }
    if (this.isRestart(header)) {
      if (point.walOffset > WAL_HEADER_SIZE && !this.restartIsSafe(point) && !(await this.databaseFileMatches())) {
        return this.writeFullImage(header, 'the WAL was restarted by another process before all of it was copied');
      }
      point = this.point = { ...point, salt1: header.salt1, salt2: header.salt2, walOffset: WAL_HEADER_SIZE };
      this.safeRestart = undefined;
      seed = header.checksum;
    } else if (!seed) {
      return this.writeFullImage(header, 'the WAL was rewritten below the last copied frame');
    }
    let region = await this.readChunk(header, point.walOffset, seed);
    if (!region) return undefined;
    let result = await this.writeIncremental(header, point, region);
    // With maxSyncWalBytes, the rest of what is committed goes into further files of this sync.
    while (this.options.maxSyncWalBytes > 0) {
      region = await this.readChunk(header, this.point!.walOffset, region.run.checksum);
      if (!region) break;
      result = await this.writeIncremental(header, this.point!, region);
    }
    return result;
  }

  /**
   * The committed frames from `offset` on: all of them, or with `maxSyncWalBytes` those up to the
   * last commit within that many bytes. A transaction larger than the limit is taken whole: the
   * window doubles until it holds a commit or the end of the WAL.
   */
  private async readChunk(header: WalHeader, offset: number, seed: readonly [number, number]): Promise<WalRegion | undefined> {
    const max = this.options.maxSyncWalBytes;
    if (max <= 0) return this.wal.readCommitted(header, offset, seed);
    const frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
    for (let window = Math.max(1, Math.floor(max / frameSize)) * frameSize; ; window *= 2) {
      const region = await this.wal.readCommitted(header, offset, seed, { endOffset: offset + window });
      if (region || offset + window >= this.wal.knownSize) return region;
    }
  }

  /** The WAL holds another generation than the one the position is in (or the position has none). */
  private isRestart(header: WalHeader): boolean {
    const point = this.point!;
    return point.walOffset === 0 || header.salt1 !== point.salt1 || header.salt2 !== point.salt2;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  private restartIsSafe(point: SyncPoint): boolean {
    const safe = this.safeRestart;
    return safe !== undefined && safe.salt1 === point.salt1 && safe.salt2 === point.salt2 && safe.walOffset === point.walOffset;
  }

  private async writeIncremental(header: WalHeader, point: SyncPoint, region: WalRegion): Promise<SyncResult> {
    const { run } = region;
    const txid = point.txid + 1;
    const pgnos = [...run.pages.keys()].filter((p) => p <= run.commit).sort((a, b) => a - b);
    const pre = this.sums.checksum;
    this.sums.resize(run.commit);
    const init: LtxHeaderInit = {
      pageSize: this.pageSize,
      commit: run.commit,
      minTXID: txid,
      maxTXID: txid,
      preApplyChecksum: pre,
      walOffset: point.walOffset,
      walSize: run.endOffset - point.walOffset,
      walSalt1: header.salt1,
      walSalt2: header.salt2,
    };
    const encode = async (sink: ByteSink, options: { chunkSize?: number; recycleChunks?: boolean } = {}): Promise<LtxEncodeResult> => {
      const encoder = new LtxEncoder(sink, init, { file: this.local.pathOf(txid, txid), ...options, onPageChecksum: (pgno, sum) => this.sums.set(pgno, sum) });
      // One kernel call per batch of pages, not per page; all checksums are in when it resolves.
      await encoder.writePageList(pgnos, (i) => region.page(run.pages.get(pgnos[i]!)!));
      return encoder.finish(this.sums.checksum);
    };
    let result: LtxEncodeResult;
    let file: LocalLtxFile;
    const pageBytes = pgnos.length * this.pageSize;
    if (pageBytes <= MAX_IN_MEMORY_PAGES_BYTES) {
      // Small (the steady state): encoded through one small recycled chunk into a buffer kept
      // between syncs, then one exact copy that is staged and kept for the upload.
      let out = this.encodeBuffer;
      let length = 0;
      result = await encode(
        (chunk) => {
          if (out.byteLength < length + chunk.byteLength) {
            const grown = Buffer.allocUnsafeSlow(Math.max(2 * out.byteLength, length + chunk.byteLength, 64 << 10));
            out.copy(grown, 0, 0, length);
            out = this.encodeBuffer = grown;
          }
          chunk.copy(out, length);
          length += chunk.byteLength;
        },
        { chunkSize: 64 << 10, recycleChunks: true },
      );
      file = this.local.writeBytes(txid, txid, Buffer.from(out.subarray(0, length)));
    } else {
      result = await this.local.write(txid, txid, (sink) => encode(sink));
      file = { minTXID: txid, maxTXID: txid, path: this.local.pathOf(txid, txid) };
    }
    this.point = { txid, postApplyChecksum: result.postApplyChecksum, salt1: header.salt1, salt2: header.salt2, walOffset: run.endOffset };
    this.checkpoints.copied(run.frames);
    this.lastFileAt = Date.now();
    return { txid, file, kind: 'incremental', pages: pgnos.length, bytes: result.size };
  }

  /**
   * Writes every page of the current state (main file + committed WAL frames) as a snapshot
   * covering TXID 1..next: self-contained, so a restore, a compaction or a replica that lost
   * track can start from it without any earlier file. It goes to `fullImageSink` when set
   * (straight to the replica), else to the staging directory.
   */
  private async writeFullImage(header: WalHeader | undefined, reason: string): Promise<SyncResult> {
    if (this.deferFullImages) {
      this.fullImageReason ??= reason;
      throw new FullImageDeferred(reason);
    }
    const region = header ? await this.wal.readCommitted(header, WAL_HEADER_SIZE, header.checksum) : undefined;
    // The WAL's commit frame gives the size; the main file's header is only read when the WAL
    // holds nothing: mid-checkpoint it may already count pages the file does not hold yet.
    const commit = region?.run.commit ?? (await readSqliteHeaderFrom(this.file!, this.path)).pageCount;
    const base = this.floor ?? this.position;
    const snapshot = base === undefined;
    const txid = base === undefined ? 1 : base.txid + 1;
    if (!snapshot) this.logger.warn('writing a full database image', { txid: formatTXID(txid), reason });
    const timestamp = Date.now();
    const walOffset = header ? WAL_HEADER_SIZE : 0;
    const walSize = region ? region.run.endOffset - WAL_HEADER_SIZE : 0;
    const init: LtxHeaderInit = {
      pageSize: this.pageSize,
      commit,
      minTXID: 1,
      maxTXID: txid,
      timestamp,
      preApplyChecksum: 0n,
      walOffset,
      walSize,
      walSalt1: header?.salt1 ?? 0,
      walSalt2: header?.salt2 ?? 0,
    };
    // Built aside and swapped in on success, so a failed upload leaves the old state intact.
    const sums = new PageChecksums();
    sums.resize(commit);
    const overlay: PageOverlay | undefined = region && ((pgno) => {
      const at = region.run.pages.get(pgno);
      return at === undefined ? undefined : region.page(at);
    });
    const produce = async (sink: ByteSink, options: { recycleChunks?: boolean } = {}): Promise<LtxEncodeResult> => {
      // Large images are compressed and checksummed on worker threads, runs of pages at a time.
      const workers = commit * this.pageSize >= WORKER_IMAGE_BYTES ? defaultPageWorkers() : 0;
      const pool = workers > 0 ? new PageWorkerPool(workers) : undefined;
      try {
        const encoder = new LtxEncoder(sink, init, {
          file: formatLtxFilename(1, txid),
          chunkSize: Math.min(FULL_IMAGE_CHUNK, commit * this.pageSize + 4096),
          pool,
          ...(options.recycleChunks ? { recycleChunks: true } : {}),
          onPageChecksum: (pgno, checksum) => sums.set(pgno, checksum),
        });
        await forEachDatabaseRun(this.file!, overlay, this.pageSize, commit, (first, data) => encoder.writePages(first, data));
        const result = await encoder.finish();
        // Every page's checksum arrived through onPageChecksum; they must add up to the file's.
        if (result.postApplyChecksum !== sums.checksum) throw new LitestreamError('page checksums of the full image do not add up to its post-apply checksum', { file: formatLtxFilename(1, txid) });
        return result;
      } finally {
        await pool?.close();
      }
    };
    let result: LtxEncodeResult;
    let file: LocalLtxFile | undefined;
    if (this.fullImageSink) {
      result = await this.fullImageSink({ maxTXID: txid, timestamp: new Date(timestamp) }, produce);
      // The replica has it now; failing to note that locally only costs a full image after a restart.
      await this.local
        .recordPosition({ txid, postApplyChecksum: result.postApplyChecksum, walSalt1: init.walSalt1!, walSalt2: init.walSalt2!, walOffset, walSize, timestamp })
        .catch((err: Error) => this.logger.warn('cannot record the local position', { txid: formatTXID(txid), error: err.message }));
    } else {
      result = await this.local.write(1, txid, produce);
      file = { minTXID: 1, maxTXID: txid, path: this.local.pathOf(1, txid) };
    }
    this.sums = sums;
    this.point = {
      txid,
      postApplyChecksum: result.postApplyChecksum,
      salt1: header?.salt1 ?? 0,
      salt2: header?.salt2 ?? 0,
      walOffset: region ? region.run.endOffset : walOffset,
    };
    this.safeRestart = undefined;
    this.fullImageReason = undefined;
    this.floor = undefined;
    this.checkpoints.copied(region?.run.frames ?? 0);
    this.logger.info('snapshot written', { txid: formatTXID(txid), pages: result.pageCount, bytes: result.size, reason, ...(file ? {} : { staged: false }) });
    return { txid, ...(file ? { file } : {}), kind: snapshot ? 'snapshot' : 'full-image', pages: result.pageCount, bytes: result.size };
  }

  /**
   * Rebuilds the position and page checksums from the last staged file (or the recorded full
   * image) and the database. If the database no longer matches it, the next sync writes a
   * full image.
   */
  private async recoverPosition(): Promise<void> {
    const last = await this.local.lastPosition().catch((err: Error) => {
      // A damaged newest file must not keep replication from starting: start over with a full image.
      this.logger.warn('cannot read the local position; starting over with a full image', { error: err.message });
      return undefined;
    });
    if (!last) return;
    const walEnd = last.walOffset + last.walSize;
    const point: SyncPoint = { txid: last.txid, postApplyChecksum: last.postApplyChecksum, salt1: last.walSalt1, salt2: last.walSalt2, walOffset: walEnd };
    const walHeader = this.wal.stat() && this.wal.readHeader();
    const sameWal = walHeader !== undefined && walEnd > WAL_HEADER_SIZE && walHeader.salt1 === point.salt1 && walHeader.salt2 === point.salt2;
    const region = sameWal ? await this.wal.readCommitted(walHeader, WAL_HEADER_SIZE, walHeader.checksum, { endOffset: walEnd }) : undefined;
    const commit = region?.run.commit ?? (await readSqliteHeaderFrom(this.file!, this.path)).pageCount;
    await this.computeChecksums(region, commit);
    this.point = sameWal ? point : { ...point, walOffset: 0, salt1: 0, salt2: 0 };
    // Frames copied by an earlier run may never have been checkpointed: let the schedule see them.
    this.checkpoints.copied(region?.run.frames ?? 0);
    if (this.sums.checksum !== last.postApplyChecksum) {
      this.fullImageReason = `database does not match the last staged file ${formatTXID(point.txid)} (it changed while not replicated)`;
    }
  }

  /** True when the main database file alone holds exactly the copied state. Reads the whole file. */
  private async databaseFileMatches(): Promise<boolean> {
    const expected = this.sums.checksum;
    const expectedCommit = this.sums.commit;
    const { pageCount } = await readSqliteHeaderFrom(this.file!, this.path);
    if (pageCount !== expectedCommit) return false;
    let xor = 0n;
    await forEachDatabasePage(this.file!, undefined, this.pageSize, pageCount, (pgno, data) => {
      xor ^= pageChecksum(pgno, data);
    });
    return (xor | CHECKSUM_FLAG) === expected;
  }

  private async computeChecksums(region: WalRegion | undefined, commit: number): Promise<void> {
    this.sums.clear();
    this.sums.resize(commit);
    const overlay: PageOverlay | undefined = region && ((pgno) => {
      const at = region.run.pages.get(pgno);
      return at === undefined ? undefined : region.page(at);
    });
    await forEachDatabasePage(this.file!, overlay, this.pageSize, commit, (pgno, data) => this.sums.set(pgno, pageChecksum(pgno, data)));
  }

  /** Frames in the current WAL generation as far as copied: what a TRUNCATE would reclaim. */
  private walFrameCount(): number {
    const offset = this.point?.walOffset ?? 0;
    return offset <= WAL_HEADER_SIZE ? 0 : Math.floor((offset - WAL_HEADER_SIZE) / (WAL_FRAME_HEADER_SIZE + this.pageSize));
  }

  private recordSizes(): void {
    this.metrics.dbSize(this.path, sizeOf(this.path));
    this.metrics.walSize(this.path, sizeOf(this.walPath));
  }

  /** A connection of ours: it never checkpoints by itself (checkpoints happen when we decide). */
  private connect(): Database.Database {
    const conn = new sqlite!(this.path, { timeout: this.options.busyTimeout });
    try {
      conn.pragma('wal_autocheckpoint = 0');
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  private acquireReadLock(): void {
    const conn = this.conn!;
    if (conn.inTransaction) return;
    conn.exec('BEGIN');
    conn.prepare('SELECT COUNT(1) FROM _litestream_seq').get();
  }

  private releaseReadLock(): void {
    if (this.conn?.inTransaction) this.conn.exec('ROLLBACK');
  }
}

/** Where a database's L0 files are staged unless `metaPath` says otherwise: `<dir>/.<name>-litestream`. */
export function defaultMetaPath(dbPath: string): string {
  return join(dirname(dbPath), `.${basename(dbPath)}-litestream`);
}

/** Same file, same size, same modification and change times (or absent both times). */
function sameWal(a: WalStat | null, b: WalStat | null): boolean {
  if (a === null || b === null) return a === b;
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
