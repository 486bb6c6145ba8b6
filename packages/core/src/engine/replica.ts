import { LitestreamError } from '../ltx/errors.ts';
import type { Position } from '../ltx/position.ts';
import { formatTXID } from '../ltx/txid.ts';
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
}

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
  private remote: Position | undefined;
  private known = false;
  private uploading: Promise<number> | undefined;

  constructor(db: DB, client: ReplicaClient, options: ReplicaOptions = {}) {
    this.db = db;
    this.client = client;
    this.name = options.name ?? client.type;
    this.logger = (options.logger ?? silentLogger).child({ db: db.path, replica: this.name });
    this.metrics = options.metrics ?? noMetrics;
    // Every request on this client counts: uploads here, and compaction, snapshots and
    // retention, which the store runs through the same client.
    const metrics = this.metrics;
    client.observe((operation, bytes, error) => metrics.replicaOperation(db.path, this.name, operation, bytes, error));
  }

  /** The replica's TXID and checksum, once read. */
  get position(): Position | undefined {
    return this.remote;
  }

  /** Reads the replica's position and reconciles local state with it. Call after `db.open()`. */
  async init(): Promise<void> {
    const remote = await readRemotePosition(this.client);
    this.remote = remote && { txid: remote.txid, postApplyChecksum: remote.postApplyChecksum };
    this.known = true;
    if (remote) {
      this.db.followReplica(this.remote!);
      this.logger.info('replicating to', { type: this.client.type, txid: formatTXID(remote.txid) });
    } else {
      this.logger.info('replicating to', { type: this.client.type, txid: 'none' });
      const first = (await this.db.local.list())[0];
      // An empty replica can only start from a snapshot; older local files alone would not restore.
      if (first && first.minTXID !== 1) this.db.requestSnapshot('the replica is empty');
    }
  }

  /**
   * Uploads every staged file the replica does not have yet. With nothing new it makes no
   * storage request at all.
   */
  async sync(): Promise<number> {
    // One upload pass at a time: the loop and an explicit sync must not race on the position.
    while (this.uploading) await this.uploading.catch(() => {});
    this.uploading = this.upload();
    try {
      return await this.uploading;
    } finally {
      this.uploading = undefined;
    }
  }

  private async upload(): Promise<number> {
    if (!this.known) await this.init();
    const after = this.remote?.txid ?? 0;
    const files = (await this.db.local.list()).filter((f) => f.maxTXID > after);
    let uploaded = 0;
    for (const file of files) {
      const from = this.remote?.txid ?? 0;
      if (file.minTXID !== 1 && file.minTXID > from + 1) {
        // Staged files no longer cover what the replica needs next: a snapshot restarts the chain.
        this.db.requestSnapshot(`the replica needs TXID ${formatTXID(from + 1)} but staged files start at ${formatTXID(file.minTXID)}`);
        break;
      }
      const { header, postApplyChecksum } = await this.db.local.readEnds(file);
      try {
        await this.client.writeLtxFile({ level: 0, minTXID: file.minTXID, maxTXID: file.maxTXID }, this.db.local.open(file), {
          timestamp: new Date(header.timestamp),
        });
      } catch (err) {
        // Re-read the replica's position next time: the upload may or may not have landed.
        this.known = false;
        throw new LitestreamError(`upload of ${formatTXID(file.minTXID)}-${formatTXID(file.maxTXID)}.ltx failed: ${(err as Error).message}`, { cause: err });
      }
      this.remote = { txid: file.maxTXID, postApplyChecksum };
      uploaded += 1;
    }
    return uploaded;
  }
}
