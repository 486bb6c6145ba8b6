import { ChunkChannel } from '../io/chunk-channel.ts';
import type { ByteSink } from '../io/byte-sink.ts';
import type { LtxEncodeResult } from '../ltx/encoder.ts';
import { HEADER_SIZE, TRAILER_SIZE } from '../ltx/constants.ts';
import { ChecksumMismatchError, CorruptError, LitestreamError, UsageError } from '../ltx/errors.ts';
import { decodeHeader } from '../ltx/header.ts';
import type { Position } from '../ltx/position.ts';
import { formatTXID, type TXID } from '../ltx/txid.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import type { DB } from './db.ts';
import { silentLogger, type Logger } from './logger.ts';
import { noMetrics, type EngineMetrics } from './metrics.ts';
import { readRemotePosition } from './remote-position.ts';

export interface ReplicaOptions {
  /** Name for logs and metrics (default: the client's type). */
  readonly name?: string;
  readonly logger?: Logger;
  readonly metrics?: EngineMetrics;
  /** Aborts every storage call this replica makes (its owner's shutdown deadline). */
  readonly signal?: AbortSignal;
  /**
   * Most staged files one `sync()` uploads (default 256, as Litestream's `max-sync-ltx-files`;
   * 0: no limit). The rest wait for the next call; `backlog` says whether some are left.
   */
  readonly maxSyncLtxFiles?: number;
}

/** Default of `ReplicaOptions.maxSyncLtxFiles`. */
export const DEFAULT_MAX_SYNC_LTX_FILES = 256;

/**
 * Ships a database's staged L0 files to one replica, in TXID order, and tracks how far the
 * replica has got. On first use it reads the replica's position: if the replica is ahead of
 * local state (local files lost) or differs, the DB is told to follow it with a snapshot, so
 * TXIDs never repeat or skip.
 */
export class Replica {
  readonly db: DB;
  readonly client: ReplicaClient;
  readonly name: string;
  private readonly logger: Logger;
  private readonly metrics: EngineMetrics;
  private readonly signal: AbortSignal | undefined;
  private remote: Position | undefined;
  private known = false;
  /** The replica's position was read at least once: it answered since this process started. */
  private reached = false;
  /** Uploads run one at a time: the loop and an explicit sync must not race on the position. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly maxSyncLtxFiles: number;
  /** The last `sync()` stopped at `maxSyncLtxFiles` with staged files left to upload. */
  private more = false;

  constructor(db: DB, client: ReplicaClient, options: ReplicaOptions = {}) {
    this.db = db;
    this.client = client;
    this.name = options.name ?? client.type;
    this.logger = (options.logger ?? silentLogger).child({ db: db.path, replica: this.name });
    this.metrics = options.metrics ?? noMetrics;
    this.signal = options.signal;
    this.maxSyncLtxFiles = options.maxSyncLtxFiles ?? DEFAULT_MAX_SYNC_LTX_FILES;
    if (!(Number.isInteger(this.maxSyncLtxFiles) && this.maxSyncLtxFiles >= 0)) throw new UsageError(`maxSyncLtxFiles must be a whole number of 0 or more (0: no limit), got ${this.maxSyncLtxFiles}`);
    // Every request on this client counts: uploads here, and compaction, snapshots and
    // retention, which the store runs through the same client.
    const metrics = this.metrics;
    client.observe((operation, bytes, error) => metrics.replicaOperation(db.path, this.name, operation, bytes, error));
  }

  /** True once the replica's position was read (and until an upload fails). */
  get positionKnown(): boolean {
    return this.known;
  }

  /**
   * True once the replica's position was read in this process. From then on the local chain is
   * known to follow the replica's, so staging may go on while the replica does not answer.
   */
  get contacted(): boolean {
    return this.reached;
  }

  /** True when the last `sync()` uploaded `maxSyncLtxFiles` files and left staged ones for the next. */
  get backlog(): boolean {
    return this.more;
  }

  /** The replica's TXID and checksum, once read. */
  get position(): Position | undefined {
    return this.remote;
  }

  /** Reads the replica's position and reconciles local state with it. Call after `db.open()`. */
  async init(): Promise<void> {
    const remote = await readRemotePosition(this.client, { signal: this.signal });
    this.remote = remote && { txid: remote.txid, postApplyChecksum: remote.postApplyChecksum };
    this.known = true;
    // Said once per process; the position is read again after every failed upload.
    const announce = (this.reached ? this.logger.debug : this.logger.info).bind(this.logger);
    this.reached = true;
    if (remote) {
      this.db.followReplica(this.remote!);
      announce('replicating to', { type: this.client.type, txid: formatTXID(remote.txid) });
    } else {
      announce('replicating to', { type: this.client.type, txid: 'none' });
      const first = (await this.db.local.list())[0];
      // An empty replica can only start from a snapshot; older local files alone would not restore.
      if (this.db.position && (!first || first.minTXID !== 1)) this.db.requestSnapshot('the replica is empty');
    }
  }

  /**
   * Uploads the staged files the replica does not have yet, at most `maxSyncLtxFiles` of them
   * (see `backlog`). With nothing new it makes no storage request and does not even list the
   * staging directory.
   */
  sync(): Promise<number> {
    return this.exclusive(async () => {
      this.more = false;
      if (this.known && (this.remote?.txid ?? 0) >= (this.db.position?.txid ?? 0)) return 0;
      return this.upload({ limit: this.maxSyncLtxFiles });
    });
  }

  /**
   * Streams a full image (TXIDs 1..`ref.maxTXID`) straight into the replica as it is encoded:
   * the snapshot is written once, never staged and copied. Staged files before it go first.
   * Meant as the DB's `fullImageSink`.
   */
  sendFullImage(ref: { readonly maxTXID: TXID; readonly timestamp: Date }, produce: (sink: ByteSink, options: { recycleChunks: boolean }) => Promise<LtxEncodeResult>): Promise<LtxEncodeResult> {
    return this.exclusive(async () => {
      if (!this.known) {
        await this.init();
        // The image was numbered from what we knew; if the replica has moved past it, start over.
        if ((this.remote?.txid ?? 0) >= ref.maxTXID) throw new LitestreamError(`the replica is already at TXID ${formatTXID(this.remote!.txid)}; the full image will follow it`);
      }
      await this.upload({ upTo: ref.maxTXID - 1 });
      const name = `0000000000000001-${formatTXID(ref.maxTXID)}.ltx`;
      // One chunk at a time from the encoder to the store; a store that is done with each chunk
      // when it pulls the next lets the encoder reuse a few buffers instead of making garbage.
      const channel = new ChunkChannel();
      const stored = this.client.writeLtxFile({ level: 0, minTXID: 1, maxTXID: ref.maxTXID }, channel, { timestamp: ref.timestamp, signal: this.signal });
      // A store that fails before reading everything must stop the encoder, which waits on it.
      stored.catch((err: unknown) => channel.abort(err));
      let result: LtxEncodeResult;
      try {
        result = await produce((chunk) => channel.write(chunk), { recycleChunks: this.client.capabilities.releasesChunks === true });
        channel.end();
        await stored;
      } catch (err) {
        channel.fail(err);
        await stored.catch(() => {});
        this.known = false;
        throw new LitestreamError(`upload of ${name} failed: ${(err as Error).message}`, { cause: err });
      }
      this.remote = { txid: ref.maxTXID, postApplyChecksum: result.postApplyChecksum };
      return result;
    });
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  private async upload(options: { upTo?: TXID; limit?: number } = {}): Promise<number> {
    if (!this.known) await this.init();
    const after = this.remote?.txid ?? 0;
    const upTo = options.upTo ?? Infinity;
    // Staging goes on while this uploads: what is staged after this point waits for the next upload.
    const local = this.db.position?.txid ?? 0;
    const pending = (await this.db.local.list()).filter((f) => f.maxTXID > after && f.maxTXID <= upTo);
    const limited = options.limit !== undefined && options.limit > 0 && pending.length > options.limit;
    const files = limited ? pending.slice(0, options.limit) : pending;
    let uploaded = 0;
    for (const file of files) {
      const from = this.remote?.txid ?? 0;
      if (file.minTXID !== 1 && file.minTXID > from + 1) {
        // Staged files no longer cover what the replica needs next: a snapshot restarts the chain.
        this.db.requestSnapshot(`the replica needs TXID ${formatTXID(from + 1)} but staged files start at ${formatTXID(file.minTXID)}`);
        return uploaded;
      }
      let bytes: Buffer;
      try {
        bytes = await this.db.local.verifiedBytes(file);
      } catch (err) {
        // A staged file a crash left torn (or that the disk damaged): never ship it, start over.
        if (!(err instanceof CorruptError || err instanceof ChecksumMismatchError)) throw err;
        this.logger.warn('damaged staged file removed', { file: file.path, error: err.message });
        await this.db.local.remove([file]);
        this.db.requestSnapshot(`staged file ${formatTXID(file.minTXID)}-${formatTXID(file.maxTXID)}.ltx is damaged`);
        return uploaded;
      }
      const header = decodeHeader(bytes.subarray(0, HEADER_SIZE), file.path);
      const postApplyChecksum = bytes.readBigUInt64BE(bytes.byteLength - TRAILER_SIZE);
      try {
        await this.client.writeLtxFile({ level: 0, minTXID: file.minTXID, maxTXID: file.maxTXID }, bytes, { timestamp: new Date(header.timestamp), signal: this.signal });
      } catch (err) {
        // Re-read the replica's position next time: the upload may or may not have landed.
        this.known = false;
        throw new LitestreamError(`upload of ${formatTXID(file.minTXID)}-${formatTXID(file.maxTXID)}.ltx failed: ${(err as Error).message}`, { cause: err });
      }
      this.db.local.uploaded(file);
      this.remote = { txid: file.maxTXID, postApplyChecksum };
      uploaded += 1;
    }
    if (limited) {
      this.more = true;
      return uploaded;
    }
    if (options.upTo === undefined && (this.remote?.txid ?? 0) < local) {
      // The state between is not staged (a full image that went to another replica, or files removed).
      this.db.requestSnapshot(`the replica is at TXID ${formatTXID(this.remote?.txid ?? 0)} and the files up to ${formatTXID(local)} are not staged`);
    }
    return uploaded;
  }
}
