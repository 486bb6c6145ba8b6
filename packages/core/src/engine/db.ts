import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { pageChecksum } from '../checksum/index.ts';
import { LtxEncoder, type LtxEncodeResult } from '../ltx/encoder.ts';
import { CHECKSUM_FLAG } from '../ltx/constants.ts';
import { LitestreamError } from '../ltx/errors.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { Position } from '../ltx/position.ts';
import { readSqliteHeaderFrom } from '../sqlite/database-header.ts';
import { WAL_FRAME_HEADER_SIZE, WAL_HEADER_SIZE, checksumAt, readCommittedFrames, readWalHeader, type WalCommitRun, type WalHeader } from '../sqlite/wal.ts';
import { forEachDatabasePage } from './database-pages.ts';
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
  readonly file: LocalLtxFile;
  readonly kind: 'snapshot' | 'incremental' | 'full-image';
  readonly pages: number;
  readonly bytes: number;
}

/**
 * One replicated SQLite database. Holds a read transaction so no checkpoint can pass WAL
 * frames it has not copied, reads the `-wal` file directly, and on each `sync()` turns the
 * frames committed since the previous sync into one L0 LTX file with the next TXID in the
 * meta directory. It owns checkpointing. When the WAL or the database changed behind its
 * back in a way it cannot follow frame by frame, it writes a full image of the database
 * (every page) as the next TXID, so the chain stays restorable.
 */
export class DB {
  readonly path: string;
  readonly walPath: string;
  readonly metaPath: string;
  readonly local: LocalLtxFiles;
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
  private pageSize = 0;
  private point: SyncPoint | undefined;
  private readonly sums = new PageChecksums();
  /** Set when the next sync must write a full image, with the reason for the log. */
  private fullImageReason: string | undefined;
  /** The replica is ahead of local state: the next file must follow this position. */
  private floor: Position | undefined;
  private lastCheckpointAt = Date.now();
  private syncing: Promise<SyncResult | undefined> | undefined;

  constructor(path: string, options: DBOptions = {}) {
    this.path = path;
    this.walPath = `${path}-wal`;
    this.metaPath = options.metaPath ?? defaultMetaPath(path);
    this.local = new LocalLtxFiles(this.metaPath);
    this.options = {
      busyTimeout: options.busyTimeout ?? DB_DEFAULTS.busyTimeout,
      minCheckpointPageCount: options.minCheckpointPageCount ?? DB_DEFAULTS.minCheckpointPageCount,
      checkpointInterval: options.checkpointInterval ?? DB_DEFAULTS.checkpointInterval,
      truncatePageN: options.truncatePageN ?? DB_DEFAULTS.truncatePageN,
    };
    this.logger = (options.logger ?? silentLogger).child({ db: path });
    this.metrics = options.metrics ?? noMetrics;
  }

  /** Local position (TXID and checksum of the last staged file), once known. */
  get position(): Position | undefined {
    return this.point && { txid: this.point.txid, postApplyChecksum: this.point.postApplyChecksum };
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
    const conn = new Database(this.path, { timeout: this.options.busyTimeout });
    try {
      const mode = conn.pragma('journal_mode = wal', { simple: true });
      if (String(mode).toLowerCase() !== 'wal') throw new LitestreamError(`cannot switch to WAL mode (journal_mode is ${String(mode)})`, { file: this.path });
      // Our own connection never checkpoints by itself: checkpoints happen when we decide.
      conn.pragma('wal_autocheckpoint = 0');
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)');
      conn.exec('CREATE TABLE IF NOT EXISTS _litestream_lock (id INTEGER)');
      this.pageSize = Number(conn.pragma('page_size', { simple: true }));
    } catch (err) {
      conn.close();
      throw err;
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
   * when nothing was committed (an idle database costs one header read, no file).
   */
  async sync(): Promise<SyncResult | undefined> {
    // One sync at a time; concurrent callers share the running one and then run again.
    while (this.syncing) await this.syncing.catch(() => {});
    const run = this.syncOnce();
    this.syncing = run;
    try {
      return await run;
    } finally {
      this.syncing = undefined;
    }
  }

  /** Syncs, then checkpoints if the WAL is large enough or old enough. */
  async syncAndMaybeCheckpoint(): Promise<SyncResult | undefined> {
    const result = await this.sync();
    const walPages = await this.walPageCount();
    const o = this.options;
    if (o.truncatePageN > 0 && walPages >= o.truncatePageN) {
      await this.checkpoint('TRUNCATE');
    } else if (walPages >= o.minCheckpointPageCount || (o.checkpointInterval > 0 && walPages > 0 && Date.now() - this.lastCheckpointAt >= o.checkpointInterval)) {
      await this.checkpoint('PASSIVE');
    }
    return result;
  }

  /**
   * Checkpoints the WAL after copying it. PASSIVE runs behind a write barrier (another
   * connection holding the write lock) so no commit can slip between the last copy and the
   * checkpoint; TRUNCATE cannot (it needs the write lock itself), so afterwards the database
   * is compared with the copied state and a full image is written if they differ.
   */
  async checkpoint(mode: 'PASSIVE' | 'TRUNCATE'): Promise<void> {
    await this.open();
    await this.sync();
    const before = await this.readWalHeaderNow();
    let barrier: Database.Database | undefined;
    let error = false;
    try {
      if (mode === 'PASSIVE') {
        barrier = new Database(this.path, { timeout: this.options.busyTimeout });
        barrier.exec('BEGIN IMMEDIATE');
        await this.sync();
      }
      this.releaseReadLock();
      const row = this.conn!.pragma(`wal_checkpoint(${mode})`, { simple: false }) as Array<{ busy: number; log: number; checkpointed: number }>;
      if (barrier) {
        // Under the barrier, the first write after a complete checkpoint restarts the WAL; make
        // that write ours so the restart happens at a point we know is fully copied.
        barrier.prepare('INSERT INTO _litestream_seq (id, seq) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET seq = seq + 1').run();
        barrier.exec('COMMIT');
      }
      const after = await this.readWalHeaderNow();
      const restarted = !after || !before || after.salt1 !== before.salt1 || after.salt2 !== before.salt2;
      if (restarted && this.point) {
        if (mode === 'PASSIVE') {
          // Restart implies every frame was backfilled, and every frame was copied under the barrier.
          this.point = { ...this.point, salt1: after?.salt1 ?? 0, salt2: after?.salt2 ?? 0, walOffset: after ? WAL_HEADER_SIZE : 0 };
        } else if (await this.databaseFileMatches()) {
          this.point = { ...this.point, salt1: 0, salt2: 0, walOffset: 0 };
        } else {
          this.fullImageReason = 'commits landed between the last copy and a TRUNCATE checkpoint';
        }
      }
      this.lastCheckpointAt = Date.now();
      this.logger.info('checkpoint completed', { mode, walFrames: row[0]?.log, checkpointed: row[0]?.checkpointed, restarted });
    } catch (err) {
      error = true;
      this.logger.warn('checkpoint failed', { mode, error: (err as Error).message });
    } finally {
      if (barrier?.inTransaction) barrier.exec('ROLLBACK');
      barrier?.close();
      if (this.conn) this.acquireReadLock();
      this.metrics.checkpoint(this.path, mode, error);
    }
  }

  /** Releases the read lock and closes the connection. Staged files stay for the next start. */
  async close(): Promise<void> {
    while (this.syncing) await this.syncing.catch(() => {});
    if (!this.conn) return;
    this.releaseReadLock();
    this.conn.close();
    this.conn = undefined;
    // In a process that keeps other connections to this database, this close drops their POSIX
    // locks too (see `file`); that only matters if yet another process uses the database.
    await this.file?.close();
    this.file = undefined;
  }

  private async syncOnce(): Promise<SyncResult | undefined> {
    await this.open();
    const started = performance.now();
    try {
      const result = await this.syncWal();
      if (result) {
        this.metrics.txid(this.path, result.txid);
        this.logger.debug('sync', { txid: formatTXID(result.txid), kind: result.kind, pages: result.pages, bytes: result.bytes });
      }
      await this.recordSizes();
      this.metrics.sync(this.path, (performance.now() - started) / 1000, false);
      return result;
    } catch (err) {
      this.metrics.sync(this.path, (performance.now() - started) / 1000, true);
      // In-memory state may be half updated; derive it again from the staged files next time.
      this.point = undefined;
      this.sums.clear();
      await this.recoverPosition().catch(() => {});
      throw err;
    }
  }

  private async syncWal(): Promise<SyncResult | undefined> {
    const wal = await openIfExists(this.walPath);
    try {
      const header = wal && (await readWalHeader(wal));
      if (this.fullImageReason || !this.point) {
        return await this.writeFullImage(wal, header, this.fullImageReason ?? 'initial snapshot');
      }
      let point = this.point;
      if (!header) {
        // No WAL content: the main file is the whole state. It may only have changed through
        // a checkpoint of frames we copied, unless someone removed or truncated the WAL.
        if (point.walOffset > WAL_HEADER_SIZE && !(await this.databaseFileMatches())) {
          return await this.writeFullImage(wal, header, 'the WAL disappeared before all of it was copied');
        }
        return undefined;
      }
      let seed: readonly [number, number] | undefined;
      if (point.walOffset === 0 || header.salt1 !== point.salt1 || header.salt2 !== point.salt2) {
        if (point.walOffset !== 0 && !(await this.databaseFileMatches())) {
          return await this.writeFullImage(wal, header, 'the WAL was restarted by another process before all of it was copied');
        }
        point = this.point = { ...point, salt1: header.salt1, salt2: header.salt2, walOffset: WAL_HEADER_SIZE };
        seed = header.checksum;
      } else {
        seed = await checksumAt(wal!, header, point.walOffset);
        if (!seed) return await this.writeFullImage(wal, header, 'the WAL was rewritten below the last copied frame');
      }
      const run = await readCommittedFrames(wal!, header, point.walOffset, seed);
      if (!run) return undefined;
      return await this.writeIncremental(wal!, header, point, run);
    } finally {
      await wal?.close();
    }
  }

  private async writeIncremental(wal: FileHandle, header: WalHeader, point: SyncPoint, run: WalCommitRun): Promise<SyncResult> {
    const txid = point.txid + 1;
    const pgnos = [...run.pages.keys()].filter((p) => p <= run.commit).sort((a, b) => a - b);
    const pre = this.sums.checksum;
    this.sums.resize(run.commit);
    const page = Buffer.allocUnsafe(this.pageSize);
    const result = await this.local.write(txid, txid, async (sink) => {
      const encoder = new LtxEncoder(
        sink,
        {
          pageSize: this.pageSize,
          commit: run.commit,
          minTXID: txid,
          maxTXID: txid,
          preApplyChecksum: pre,
          walOffset: point.walOffset,
          walSize: run.endOffset - point.walOffset,
          walSalt1: header.salt1,
          walSalt2: header.salt2,
        },
        { file: this.local.pathOf(txid, txid) },
      );
      for (const pgno of pgnos) {
        await wal.read(page, 0, this.pageSize, run.pages.get(pgno)!);
        this.sums.set(pgno, await encoder.writePage(pgno, page));
      }
      return encoder.finish(this.sums.checksum);
    });
    this.point = { txid, postApplyChecksum: result.postApplyChecksum, salt1: header.salt1, salt2: header.salt2, walOffset: run.endOffset };
    return { txid, file: { minTXID: txid, maxTXID: txid, path: this.local.pathOf(txid, txid) }, kind: 'incremental', pages: pgnos.length, bytes: result.size };
  }

  /**
   * Writes every page of the current state (main file + committed WAL frames) as a snapshot
   * covering TXID 1..next: self-contained, so a restore, a compaction or a replica that lost
   * track can start from it without any earlier file.
   */
  private async writeFullImage(wal: FileHandle | undefined, header: WalHeader | undefined, reason: string): Promise<SyncResult> {
    const run = wal && header ? await readCommittedFrames(wal, header, WAL_HEADER_SIZE, header.checksum) : undefined;
    const dbInfo = await readSqliteHeaderFrom(this.file!, this.path);
    const commit = run?.commit ?? dbInfo.pageCount;
    const base = this.floor ?? this.position;
    const snapshot = base === undefined;
    const txid = base === undefined ? 1 : base.txid + 1;
    if (!snapshot) this.logger.warn('writing a full database image', { txid: formatTXID(txid), reason });
    this.sums.clear();
    this.sums.resize(commit);
    const db = this.file!;
    const result: LtxEncodeResult = await this.local.write(1, txid, async (sink) => {
        const encoder = new LtxEncoder(
          sink,
          {
            pageSize: this.pageSize,
            commit,
            minTXID: 1,
            maxTXID: txid,
            preApplyChecksum: 0n,
            walOffset: header ? WAL_HEADER_SIZE : 0,
            walSize: run ? run.endOffset - WAL_HEADER_SIZE : 0,
            walSalt1: header?.salt1 ?? 0,
            walSalt2: header?.salt2 ?? 0,
          },
          { file: this.local.pathOf(1, txid) },
        );
        await forEachDatabasePage(db, wal, run?.pages, this.pageSize, commit, async (pgno, data) => {
          this.sums.set(pgno, await encoder.writePage(pgno, data));
        });
        return encoder.finish(this.sums.checksum);
      });
    this.point = {
      txid,
      postApplyChecksum: result.postApplyChecksum,
      salt1: header?.salt1 ?? 0,
      salt2: header?.salt2 ?? 0,
      walOffset: run ? run.endOffset : header ? WAL_HEADER_SIZE : 0,
    };
    this.fullImageReason = undefined;
    this.floor = undefined;
    this.logger.info('snapshot written', { txid: formatTXID(txid), pages: result.pageCount, bytes: result.size, reason });
    return { txid, file: { minTXID: 1, maxTXID: txid, path: this.local.pathOf(1, txid) }, kind: snapshot ? 'snapshot' : 'full-image', pages: result.pageCount, bytes: result.size };
  }

  /**
   * Rebuilds the position and page checksums from the last staged file and the database.
   * If the database no longer matches that file, the next sync writes a full image.
   */
  private async recoverPosition(): Promise<void> {
    const files = await this.local.list();
    const last = files[files.length - 1];
    if (!last) return;
    const { header, postApplyChecksum } = await this.local.readEnds(last);
    const walEnd = header.walOffset + header.walSize;
    const point: SyncPoint = { txid: header.maxTXID, postApplyChecksum, salt1: header.walSalt1, salt2: header.walSalt2, walOffset: walEnd };
    const wal = await openIfExists(this.walPath);
    try {
      const walHeader = wal && (await readWalHeader(wal));
      const sameWal = walHeader !== undefined && walEnd > WAL_HEADER_SIZE && walHeader.salt1 === point.salt1 && walHeader.salt2 === point.salt2;
      const run = sameWal ? await readCommittedFrames(wal!, walHeader, WAL_HEADER_SIZE, walHeader.checksum, { endOffset: walEnd }) : undefined;
      const commit = run?.commit ?? (await readSqliteHeaderFrom(this.file!, this.path)).pageCount;
      await this.computeChecksums(wal, run, commit);
      this.point = sameWal ? point : { ...point, walOffset: 0, salt1: 0, salt2: 0 };
      if (this.sums.checksum !== postApplyChecksum) {
        this.fullImageReason = `database does not match the last staged file ${formatTXID(point.txid)} (it changed while not replicated)`;
      }
    } finally {
      await wal?.close();
    }
  }

  /** True when the main database file alone holds exactly the copied state. */
  private async databaseFileMatches(): Promise<boolean> {
    const expected = this.sums.checksum;
    const expectedCommit = this.sums.commit;
    const { pageCount } = await readSqliteHeaderFrom(this.file!, this.path);
    if (pageCount !== expectedCommit) return false;
    let xor = 0n;
    await forEachDatabasePage(this.file!, undefined, undefined, this.pageSize, pageCount, (pgno, data) => {
      xor ^= pageChecksum(pgno, data);
    });
    return (xor | CHECKSUM_FLAG) === expected;
  }

  private async computeChecksums(wal: FileHandle | undefined, run: WalCommitRun | undefined, commit: number): Promise<void> {
    this.sums.clear();
    this.sums.resize(commit);
    await forEachDatabasePage(this.file!, wal, run?.pages, this.pageSize, commit, (pgno, data) => this.sums.set(pgno, pageChecksum(pgno, data)));
  }

  private async readWalHeaderNow(): Promise<WalHeader | undefined> {
    const wal = await openIfExists(this.walPath);
    try {
      return wal && (await readWalHeader(wal));
    } finally {
      await wal?.close();
    }
  }

  private async walPageCount(): Promise<number> {
    const size = await stat(this.walPath).then((s) => s.size, () => 0);
    return size <= WAL_HEADER_SIZE ? 0 : Math.floor((size - WAL_HEADER_SIZE) / (WAL_FRAME_HEADER_SIZE + this.pageSize));
  }

  private async recordSizes(): Promise<void> {
    this.metrics.dbSize(this.path, await stat(this.path).then((s) => s.size, () => 0));
    this.metrics.walSize(this.path, await stat(this.walPath).then((s) => s.size, () => 0));
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

async function openIfExists(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
