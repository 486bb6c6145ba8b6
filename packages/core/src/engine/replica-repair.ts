import { LitestreamError } from '../ltx/errors.ts';
import { formatTXID, type TXID } from '../ltx/txid.ts';
import { confirmCorruption, type CorruptReplicaFileError } from '../replica/corrupt-replica-file.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import type { Logger } from './logger.ts';
import type { EngineMetrics } from './metrics.ts';
import { readReplicaHealth, replicaHealthPath, writeReplicaHealth, type CorruptFileRecord, type CorruptionFinder } from './replica-health.ts';

/** Spacing of repairs while corruption keeps coming back. */
export interface RepairBackoff {
  /** Wait after the first repair of a streak before the next one, ms (doubles each time). */
  readonly initial: number;
  /** Longest wait between two repairs, ms. */
  readonly max: number;
}

/** Repairs start at once, then wait 1 min, 2 min, … up to an hour while corruption recurs. */
export const DEFAULT_REPAIR_BACKOFF: RepairBackoff = Object.freeze({ initial: 60_000, max: 3_600_000 });

export interface ReplicaRepairOptions {
  readonly client: ReplicaClient;
  readonly metaPath: string;
  readonly db: string;
  readonly replicaName: string;
  readonly logger: Logger;
  readonly metrics: EngineMetrics;
  readonly backoff?: RepairBackoff;
  readonly now?: () => number;
}

/**
 * Repairs a replica that holds a corrupt file. A reader (compaction, snapshot, validation)
 * reports the file; once a second read confirms it, it is logged (once per file, and once per
 * streak when corruption keeps recurring), recorded in `<meta>/replica-health.json` and the
 * replica is unhealthy. The engine then writes a full image, which supersedes every file before
 * it: a restore starts from it, compaction merges from it. When that image is uploaded the
 * replica is healthy again, and the next maintenance run deletes the corrupt files, so no
 * reader trips over them again. While corruption recurs (a store that damages what it
 * receives), repairs are spaced by a doubling backoff instead of writing full images back to back.
 */
export class ReplicaRepair {
  private readonly client: ReplicaClient;
  private readonly metaPath: string;
  private readonly db: string;
  private readonly replicaName: string;
  private readonly logger: Logger;
  private readonly metrics: EngineMetrics;
  private readonly backoff: RepairBackoff;
  private readonly now: () => number;
  /** Corrupt files found and not deleted yet. */
  private files: CorruptFileRecord[] = [];
  /** The full image that repaired them, once uploaded. */
  private repairTXID: TXID | undefined;
  private repairedAt: Date | undefined;
  /** The newest full image this process uploaded: files up to it are superseded. */
  private lastImageTXID = 0;
  /** A full image was asked for and has not been uploaded yet. */
  private requested = false;
  /** Repairs in the current streak, and when the last one was uploaded. */
  private repairs = 0;
  private lastRepairAt = 0;
  /** The recurrence of this streak was logged; later files go to debug. */
  private recurrenceLogged = false;
  /** Deleting the corrupt files failed (one warning until it works). */
  private cleanupFailing = false;

  constructor(options: ReplicaRepairOptions) {
    this.client = options.client;
    this.metaPath = options.metaPath;
    this.db = options.db;
    this.replicaName = options.replicaName;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.backoff = options.backoff ?? DEFAULT_REPAIR_BACKOFF;
    this.now = options.now ?? Date.now;
  }

  /** False from a confirmed corrupt file until the full image that repairs it is uploaded. */
  get healthy(): boolean {
    return this.files.length === 0 || this.repairTXID !== undefined;
  }

  /** The corrupt files not deleted yet (repaired or not). */
  get corruptFiles(): readonly CorruptFileRecord[] {
    return this.files;
  }

  /** Picks up a repair an earlier run recorded but did not finish. */
  async load(): Promise<void> {
    const record = await readReplicaHealth(this.metaPath);
    if (record) {
      this.files = [...record.files];
      this.repairTXID = record.repairTXID;
      this.repairedAt = record.repairedAt;
      this.logger.warn(record.healthy ? 'corrupt replica files left to delete' : 'replica repair pending from an earlier run', { files: this.files.map((f) => f.file) });
    }
    this.metrics.replicaHealthy?.(this.db, this.replicaName, this.healthy);
  }

  /**
   * Takes a corrupt file a reader found. Returns false when a second read does not confirm it
   * (a transfer cut short, a file since replaced or deleted): the caller treats the error as an
   * ordinary failure. Returns true when it is known or now recorded.
   */
  async report(damage: CorruptReplicaFileError, detectedBy: CorruptionFinder): Promise<boolean> {
    if (this.known(damage)) return true;
    const confirmed = await confirmCorruption(this.client, damage);
    if (!confirmed) return false;
    if (this.known(confirmed)) return true;
    const now = this.now();
    const record: CorruptFileRecord = {
      file: confirmed.location,
      level: confirmed.ref.level,
      minTXID: confirmed.ref.minTXID,
      maxTXID: confirmed.ref.maxTXID,
      check: confirmed.check,
      detectedBy,
      detectedAt: new Date(now),
      error: causeOf(confirmed),
      ...(confirmed.after ? { chainOnly: true } : {}),
    };
    this.files.push(record);
    this.metrics.replicaCorruption?.(this.db, this.replicaName, detectedBy);
    // A full image uploaded since already supersedes a file that ends before it (one ending
    // with it may be that very image, or a compaction of it a restore would prefer).
    const superseded = record.maxTXID < this.lastImageTXID;
    if (!superseded) {
      this.repairTXID = undefined;
      this.repairedAt = undefined;
    } else if (this.repairTXID === undefined && this.files.every((f) => f.maxTXID < this.lastImageTXID)) {
      // Nothing to write: the next maintenance run only deletes it.
      this.repairTXID = this.lastImageTXID;
      this.repairedAt = new Date(now);
    }
    this.log(record, now, superseded);
    this.metrics.replicaHealthy?.(this.db, this.replicaName, this.healthy);
    await this.save();
    return true;
  }

  /**
   * The reason to write a full image now, once per repair: when the replica is unhealthy, no
   * image is on its way, and the backoff of a recurring streak has passed.
   */
  takeRequest(): string | undefined {
    if (this.healthy || this.requested || this.now() < this.nextRepairAt()) return undefined;
    this.requested = true;
    const first = this.files.find((f) => f.maxTXID > this.lastImageTXID) ?? this.files[0]!;
    return `replica file ${first.file} is corrupt`;
  }

  /** A full image up to `txid` reached the replica: it supersedes every file found corrupt so far. */
  async imageUploaded(txid: TXID): Promise<void> {
    this.lastImageTXID = Math.max(this.lastImageTXID, txid);
    this.requested = false;
    if (this.healthy) return;
    const now = this.now();
    this.repairs = this.repairs > 0 && now - this.lastRepairAt < this.streakWindow() ? this.repairs + 1 : 1;
    this.lastRepairAt = now;
    this.repairTXID = txid;
    this.repairedAt = new Date(now);
    this.logger.info('replica repaired', { txid: formatTXID(txid), files: this.files.map((f) => f.file) });
    this.metrics.replicaHealthy?.(this.db, this.replicaName, true);
    this.metrics.replicaRepaired?.(this.db, this.replicaName);
    await this.save();
  }

  /**
   * Deletes the corrupt files once a repair supersedes them (files whose only fault is a broken
   * chain stay: either side may be the good one, and the image supersedes both).
   */
  async cleanup(): Promise<void> {
    if (this.files.length === 0 || this.repairTXID === undefined) return;
    const doomed = this.files.filter((f) => !f.chainOnly);
    try {
      await this.client.deleteLtxFiles(doomed);
    } catch (err) {
      // Superseded files harm nothing meanwhile; maintenance goes on and the next run retries.
      if (!this.cleanupFailing) this.logger.warn('cannot delete corrupt replica files', { files: doomed.map((f) => f.file), error: (err as Error).message });
      this.cleanupFailing = true;
      return;
    }
    this.cleanupFailing = false;
    if (doomed.length > 0) this.logger.info('corrupt replica files deleted', { files: doomed.map((f) => f.file), repairTXID: formatTXID(this.repairTXID) });
    this.files = [];
    this.repairTXID = undefined;
    this.repairedAt = undefined;
    await this.save();
  }

  private known(damage: CorruptReplicaFileError): boolean {
    const { level, minTXID, maxTXID } = damage.ref;
    return this.files.some((f) => f.level === level && f.minTXID === minTXID && f.maxTXID === maxTXID);
  }

  /** One error line per corrupt file, except while a streak recurs: then one line for the streak. */
  private log(record: CorruptFileRecord, now: number, superseded: boolean): void {
    const fields = {
      file: record.file,
      level: record.level,
      minTXID: formatTXID(record.minTXID),
      maxTXID: formatTXID(record.maxTXID),
      check: record.check,
      detectedBy: record.detectedBy,
      error: record.error,
    };
    if (superseded) {
      this.logger.warn('replica file corrupt', { ...fields, supersededBy: formatTXID(this.lastImageTXID) });
      return;
    }
    const recurring = this.repairs > 0 && now - this.lastRepairAt < this.streakWindow();
    if (!recurring) {
      this.repairs = 0;
      this.recurrenceLogged = false;
      this.logger.error('replica file corrupt', fields);
    } else if (!this.recurrenceLogged) {
      this.recurrenceLogged = true;
      this.logger.error('replica file corrupt', { ...fields, recurring: true, repairs: this.repairs, nextRepairInMs: Math.max(0, this.nextRepairAt() - now) });
    } else {
      this.logger.debug('replica file corrupt', { ...fields, recurring: true, repairs: this.repairs });
    }
  }

  /** When the next repair may be written: at once, or after the streak's backoff. */
  private nextRepairAt(): number {
    return this.repairs === 0 || this.now() - this.lastRepairAt >= this.streakWindow() ? 0 : this.lastRepairAt + this.delay();
  }

  private delay(): number {
    return Math.min(this.backoff.max, this.backoff.initial * 2 ** (this.repairs - 1));
  }

  /** Corruption found within twice the current backoff of the last repair continues the streak. */
  private streakWindow(): number {
    return 2 * this.delay();
  }

  /**
   * Records the state for `status` and for the next start. A record that cannot be written
   * (a full disk) changes nothing about the repair itself, which goes on in memory.
   */
  private async save(): Promise<void> {
    try {
      await writeReplicaHealth(this.metaPath, { files: this.files, ...(this.repairTXID !== undefined ? { repairTXID: this.repairTXID, repairedAt: this.repairedAt! } : {}) });
    } catch (err) {
      this.logger.warn('cannot record the replica health', { path: replicaHealthPath(this.metaPath), error: (err as Error).message });
    }
  }
}

/** What failed, without the file name the log line already carries. */
function causeOf(damage: CorruptReplicaFileError): string {
  const cause = damage.cause;
  if (!(cause instanceof Error)) return damage.message;
  const prefix = cause instanceof LitestreamError && cause.file ? `${cause.file}: ` : '';
  return prefix && cause.message.startsWith(prefix) ? cause.message.slice(prefix.length) : cause.message;
}
