import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type Database from 'better-sqlite3';
import {
  NotFoundError,
  PreconditionFailedError,
  ReplicaClient,
  ltxFilename,
  type ListLtxOptions,
  type LtxFileInfo,
  type LtxFileRef,
  type ReplicaCapabilities,
  type StorageCallContext,
  type StorageTimeouts,
  type StoredObject,
  type WriteCondition,
  type WriteLtxOptions,
  type WriteLtxResult,
} from '@litestream-ts/core';
import { chunkStream } from './chunk-stream.ts';
import type { StoreAddress } from './location.ts';
import { openStoreDatabase } from './store-database.ts';

/** Uploads are stored in pieces of this size (the last one may be shorter). */
const CHUNK_SIZE = 1 << 20;
/** Rows fetched per query while listing: a long listing never holds the whole level. */
const LIST_PAGE = 256;

interface FileRow {
  readonly min_txid: number;
  readonly max_txid: number;
  readonly size: number;
  readonly modified_at: number;
  readonly timestamp: number | null;
}

/**
 * A replica kept in a SQLite file (see `store-database.ts` for the tables). The base class has
 * checked every argument before a `_method` runs; these only talk to the store.
 *
 * - Atomic publication: bytes are staged as chunks of a new upload, and one transaction points
 *   the file's row at that upload and drops the chunks of the file it replaces. A reader sees
 *   the old file, the new one, or (when a file is replaced under a running read) an error.
 * - Durability: every transaction is fsynced before it returns (`synchronous = FULL`).
 * - Conditional writes: the check and the write run in one `BEGIN IMMEDIATE` transaction, so
 *   they hold against other clients and other processes using the same file.
 */
export class SqliteFileReplicaClient extends ReplicaClient {
  readonly type = 'myscheme';
  readonly capabilities: ReplicaCapabilities = Object.freeze({
    conditionalWrite: true,
    metadataTimestamps: true,
    rangedReads: 'native',
    // Each chunk is copied into the staging buffer before the next one is asked for.
    releasesChunks: true,
  });
  /** Where the replica lives: the store file and the path inside it. */
  readonly address: StoreAddress;
  private database: Database.Database | undefined;
  private closed = false;

  constructor(address: StoreAddress, timeouts: StorageTimeouts = {}) {
    super(timeouts);
    this.address = address;
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.database?.close();
    this.database = undefined;
  }

  protected async *_listLtxFiles(level: number, options: Omit<ListLtxOptions, 'signal'> & StorageCallContext): AsyncIterable<LtxFileInfo> {
    const page = this.db().prepare<[string, number, number, number], FileRow>(
      `SELECT min_txid, max_txid, size, modified_at, timestamp FROM ltx_files
       WHERE replica = ? AND level = ? AND (min_txid, max_txid) > (?, ?)
       ORDER BY min_txid, max_txid LIMIT ${LIST_PAGE}`,
    );
    // Keyset paging from just before the seek TXID: the primary key gives the sort order.
    let after: [number, number] = [options.seek ?? 0, -1];
    for (;;) {
      const rows = page.all(this.address.path, level, after[0], after[1]);
      for (const row of rows) {
        const createdAt = new Date(options.useMetadata && row.timestamp !== null ? row.timestamp : row.modified_at);
        yield { level, minTXID: row.min_txid, maxTXID: row.max_txid, size: row.size, createdAt };
      }
      if (rows.length < LIST_PAGE) return;
      const last = rows[rows.length - 1]!;
      after = [last.min_txid, last.max_txid];
    }
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    const row = this.db()
      .prepare<[string, number, number, number], { upload: number; size: number }>(
        'SELECT upload, size FROM ltx_files WHERE replica = ? AND level = ? AND min_txid = ? AND max_txid = ?',
      )
      .get(this.address.path, ref.level, ref.minTXID, ref.maxTXID);
    if (row === undefined) throw new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: this._ltxFileLocation(ref) });
    // An offset at or past the end, or a size of 0, gives an empty stream; a size past the end stops there.
    const start = Math.min(range.offset, row.size);
    const end = range.size === undefined ? row.size : Math.min(row.size, start + range.size);
    return chunkStream(this.db(), row.upload, start, end, this._ltxFileLocation(ref));
  }

  protected async _writeLtxFile(
    ref: LtxFileRef,
    data: AsyncIterable<Uint8Array>,
    options: Omit<WriteLtxOptions, 'signal'> & StorageCallContext,
  ): Promise<WriteLtxResult> {
    const db = this.db();
    const upload = Number(db.prepare('INSERT INTO uploads (replica, started_at) VALUES (?, ?)').run(this.address.path, Date.now()).lastInsertRowid);
    const insertChunk = db.prepare('INSERT INTO chunks (upload, offset, data) VALUES (?, ?, ?)');
    try {
      const staging = Buffer.allocUnsafe(CHUNK_SIZE);
      let staged = 0;
      let size = 0;
      const flush = (): void => {
        // better-sqlite3 copies a bound blob, so the staging buffer can be reused at once.
        insertChunk.run(upload, size - staged, staging.subarray(0, staged));
        staged = 0;
      };
      for await (const chunk of data) {
        for (let at = 0; at < chunk.byteLength; ) {
          const taken = Math.min(CHUNK_SIZE - staged, chunk.byteLength - at);
          staging.set(chunk.subarray(at, at + taken), staged);
          staged += taken;
          size += taken;
          at += taken;
          if (staged === CHUNK_SIZE) flush();
        }
      }
      if (staged > 0) flush();
      // A call abandoned meanwhile publishes nothing: its caller was already told it failed.
      options.signal.throwIfAborted();
      const modifiedAt = Date.now();
      this.publish(ref, upload, size, modifiedAt, options.timestamp?.getTime());
      return { size, createdAt: new Date(options.timestamp?.getTime() ?? modifiedAt) };
    } catch (error) {
      this.discardUpload(upload);
      throw error;
    }
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[]): Promise<void> {
    const db = this.db();
    const find = db.prepare<[string, number, number, number], { upload: number }>(
      'SELECT upload FROM ltx_files WHERE replica = ? AND level = ? AND min_txid = ? AND max_txid = ?',
    );
    const removeFile = db.prepare('DELETE FROM ltx_files WHERE replica = ? AND level = ? AND min_txid = ? AND max_txid = ?');
    const removeChunks = db.prepare('DELETE FROM chunks WHERE upload = ?');
    db.transaction(() => {
      for (const ref of refs) {
        const row = find.get(this.address.path, ref.level, ref.minTXID, ref.maxTXID);
        if (row === undefined) continue;
        removeChunks.run(row.upload);
        removeFile.run(this.address.path, ref.level, ref.minTXID, ref.maxTXID);
      }
    }).immediate();
  }

  protected async _deleteAll(): Promise<void> {
    const db = this.db();
    const replica = this.address.path;
    db.transaction(() => {
      db.prepare('DELETE FROM chunks WHERE upload IN (SELECT upload FROM ltx_files WHERE replica = ?)').run(replica);
      db.prepare('DELETE FROM chunks WHERE upload IN (SELECT id FROM uploads WHERE replica = ?)').run(replica);
      db.prepare('DELETE FROM ltx_files WHERE replica = ?').run(replica);
      db.prepare('DELETE FROM uploads WHERE replica = ?').run(replica);
      db.prepare('DELETE FROM objects WHERE replica = ?').run(replica);
    }).immediate();
  }

  protected async _readObject(name: string): Promise<StoredObject | undefined> {
    const row = this.db()
      .prepare<[string, string], { data: Buffer; etag: string }>('SELECT data, etag FROM objects WHERE replica = ? AND name = ?')
      .get(this.address.path, name);
    return row && { data: new Uint8Array(row.data), etag: row.etag };
  }

  protected async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined): Promise<{ etag: string }> {
    const db = this.db();
    const etag = randomUUID();
    db.transaction(() => {
      this.checkCondition(name, condition);
      db.prepare('INSERT OR REPLACE INTO objects (replica, name, data, etag) VALUES (?, ?, ?, ?)').run(this.address.path, name, data, etag);
    }).immediate();
    return { etag };
  }

  protected async _deleteObject(name: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const db = this.db();
    db.transaction(() => {
      this.checkCondition(name, condition);
      db.prepare('DELETE FROM objects WHERE replica = ? AND name = ?').run(this.address.path, name);
    }).immediate();
  }

  protected override _ltxFileLocation(ref: LtxFileRef): string {
    const inside = this.address.path === '' ? '' : `${this.address.path}/`;
    return `${this.address.file}?path=${inside}${ref.level}/${ltxFilename(ref)}`;
  }

  /** The store connection, opened on first use (so building a client touches no file). */
  private db(): Database.Database {
    if (this.closed) throw new Error(`the myscheme client of ${this.address.file} is closed`);
    this.database ??= openStoreDatabase(this.address.file);
    return this.database;
  }

  /** Points the file's row at a complete upload and drops the bytes of the file it replaces, in one transaction. */
  private publish(ref: LtxFileRef, upload: number, size: number, modifiedAt: number, timestamp: number | undefined): void {
    const db = this.db();
    const replica = this.address.path;
    db.transaction(() => {
      // deleteAll (from any client) discards uploads in flight: such a file must not appear afterwards.
      if (db.prepare('DELETE FROM uploads WHERE id = ?').run(upload).changes !== 1) {
        throw new Error(`the upload of ${this._ltxFileLocation(ref)} was discarded (the replica was emptied while it was written)`);
      }
      const previous = db
        .prepare<[string, number, number, number], { upload: number }>('SELECT upload FROM ltx_files WHERE replica = ? AND level = ? AND min_txid = ? AND max_txid = ?')
        .get(replica, ref.level, ref.minTXID, ref.maxTXID);
      if (previous !== undefined) db.prepare('DELETE FROM chunks WHERE upload = ?').run(previous.upload);
      db.prepare(
        `INSERT OR REPLACE INTO ltx_files (replica, level, min_txid, max_txid, upload, size, modified_at, timestamp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(replica, ref.level, ref.minTXID, ref.maxTXID, upload, size, modifiedAt, timestamp ?? null);
    }).immediate();
  }

  /** Removes the chunks of an upload that will not be published. */
  private discardUpload(upload: number): void {
    if (this.database === undefined) return;
    const db = this.database;
    try {
      db.transaction(() => {
        db.prepare('DELETE FROM chunks WHERE upload = ?').run(upload);
        db.prepare('DELETE FROM uploads WHERE id = ?').run(upload);
      }).immediate();
    } catch {
      // Left for the sweep of abandoned uploads when the store is next opened.
    }
  }

  /** Inside a write transaction: throws `PreconditionFailedError` unless the condition holds. */
  private checkCondition(name: string, condition: WriteCondition | undefined): void {
    if (condition === undefined) return;
    const current = this.db()
      .prepare<[string, string], { etag: string }>('SELECT etag FROM objects WHERE replica = ? AND name = ?')
      .get(this.address.path, name);
    const holds = 'ifNoneMatch' in condition ? current === undefined : current?.etag === condition.ifMatch;
    if (!holds) throw new PreconditionFailedError(name, condition);
  }
}
