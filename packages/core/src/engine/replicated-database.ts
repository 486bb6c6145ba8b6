import { setTimeout as sleep } from 'node:timers/promises';
import { compactLevel } from '../compaction/compact-level.ts';
import type { CompactionLevel } from '../compaction/compaction-level.ts';
import { enforceL0Retention, enforceRetention } from '../compaction/retention.ts';
import { LeaseLostError, Leaser } from '../lease/leaser.ts';
import { LitestreamError } from '../ltx/errors.ts';
import { formatTXID } from '../ltx/txid.ts';
import { claimReplica, ReplicaOwnedError } from '../ownership/replica-owner.ts';
import { ReplicationLock } from '../ownership/replication-lock.ts';
import { CorruptReplicaFileError } from '../replica/corrupt-replica-file.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import { formatTimeout } from '../replica/storage-timeouts.ts';
import { DB } from './db.ts';
import type { DBOptions } from './db-options.ts';
import { ErrorStreak } from './error-streak.ts';
import type { Logger } from './logger.ts';
import type { EngineMetrics } from './metrics.ts';
import { Replica } from './replica.ts';
import type { CorruptionFinder } from './replica-health.ts';
import { ReplicaRepair, type RepairBackoff } from './replica-repair.ts';
import { writeReplicaSnapshot } from './replica-snapshot.ts';
import { ReplicaValidator } from './replica-validation.ts';
import { WalWatcher } from './wal-watcher.ts';

/** Timing settings shared by every database of a store. */
export interface ReplicationSchedule {
  readonly monitorInterval: number;
  readonly syncInterval: number;
  readonly levels: readonly CompactionLevel[];
  readonly snapshotInterval: number;
  readonly snapshotRetention: number;
  readonly l0Retention: number;
  /** Delete what retention releases on the replica (absent: true). False leaves it to the store's lifecycle rules. */
  readonly retention?: boolean;
  /**
   * Also check L0 retention this often, ms, while compacted L0 files wait to age out (absent
   * or 0: only after each compaction and snapshot).
   */
  readonly l0RetentionCheckInterval?: number;
  readonly maxBackoff: number;
  /** Sync as soon as the `-wal` file changes (debounced), not only on the monitor tick. */
  readonly watchWal?: boolean;
  /** Re-read and verify what the replica holds this often, ms (0 or absent: never). */
  readonly validationInterval?: number;
  /** Spacing of full-image repairs while replica corruption keeps recurring. */
  readonly repairBackoff?: RepairBackoff;
  /** Most staged files one upload pass sends (absent: 256; 0: no limit); the next pass follows at once. */
  readonly maxSyncLtxFiles?: number;
}

/** Replication status of one database: local versus replica. */
export interface SyncStatus {
  readonly path: string;
  readonly localTXID: number;
  readonly remoteTXID: number;
  /** True when the replica holds everything staged locally. */
  readonly inSync: boolean;
  /** The last sync error, while failures go on. */
  readonly lastError?: string;
  /**
   * False from finding a corrupt file on the replica (which a restore may trip over) until the
   * full image that repairs it is uploaded.
   */
  readonly healthy: boolean;
  /** Keys or paths of replica files found corrupt and not deleted yet. */
  readonly corruptFiles?: readonly string[];
  /**
   * When this process last found the replica holding everything it was given: a sync that
   * uploaded (or had nothing to upload), or reading the replica's position at start. Unset
   * until the first.
   */
  readonly lastSyncAt?: Date;
}

/** How `stop()` ended for one database. */
export interface StopOutcome {
  /**
   * False when the final sync was tried and the replica still lacks staged commits. True when it
   * got them, when no final sync was asked for (timeout 0), or when nothing may be written to
   * the replica any more (the lease was lost).
   */
  readonly synced: boolean;
  readonly status: SyncStatus;
}

/**
 * One database and its replica, driven on a schedule: sync and upload every interval (with
 * exponential backoff while failing), compact each level when its interval has passed and
 * there is something new, snapshot and enforce retention. Idle databases cause no storage
 * requests: maintenance only runs after new files were uploaded.
 */
export class ReplicatedDatabase {
  readonly db: DB;
  readonly replica: Replica;
  private readonly schedule: ReplicationSchedule;
  private readonly logger: Logger;
  private readonly metrics: EngineMetrics;
  private running = false;
  private opened = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Sync failures (start-up included): one log line per streak and per change of error. */
  private readonly syncErrors: ErrorStreak;
  /** No upload is attempted before this time (backoff after failures). */
  private retryAt = 0;
  /** The sync and upload under way, which may outlast a tick of the loop. */
  private attempt: Promise<void> | undefined;
  /** The last error of the final sync, when it failed. */
  private lastError: string | undefined;
  /** See `SyncStatus.lastSyncAt`. */
  private lastSyncAt: Date | undefined;
  private readonly leaser: Leaser | undefined;
  /** One replicator per database on this machine, unless a lease lets several take turns. */
  private readonly lock: ReplicationLock | undefined;
  /** The replica's owner marker names this database (checked before anything is uploaded). */
  private claimed = false;
  /** The replica turned out to belong to another database: nothing may be written to it. */
  private refusal: ReplicaOwnedError | undefined;
  private readonly onFatal: ((err: Error) => void) | undefined;
  /** Aborted when stopping begins: lease waits, start-up retries and maintenance end at once. */
  private readonly abort = new AbortController();
  /**
   * Aborts every storage call of the sync path (uploads, reading the replica's position, full
   * images) at the shutdown deadline, so `stop()` keeps `shutdownSyncTimeout` whatever the store does.
   */
  private readonly storage = new AbortController();
  /** Replica TXID at the last run of each maintenance task, so idle runs are skipped. */
  private readonly maintainedAt = new Map<string, { txid: number; time: number }>();
  private readonly watcher: WalWatcher | undefined;
  /** Compaction, snapshots and retention under way, beside the sync loop. */
  private maintenance: Promise<void> | undefined;
  /** Maintenance failures, logged like sync failures. */
  private readonly maintenanceErrors: ErrorStreak;
  /** A change was seen while no sleep was under way: the next sleep ends at once. */
  private changedMeanwhile = false;
  /** Every maintenance task and its interval. */
  private readonly tasks: ReadonlyArray<readonly [string, number]>;
  /** Repairs corrupt replica files that maintenance finds, and knows the replica's health. */
  private readonly repair: ReplicaRepair;
  private readonly validator: ReplicaValidator;
  /** The last L0 retention kept compacted L0 files that were too young: check again later. */
  private l0Pending = false;

  constructor(
    path: string,
    client: ReplicaClient,
    options: {
      db?: DBOptions;
      replicaName?: string;
      schedule: ReplicationSchedule;
      logger: Logger;
      metrics: EngineMetrics;
      lease?: { ttl: number };
      onFatal?: (err: Error) => void;
    },
  ) {
    this.db = new DB(path, { ...options.db, logger: options.logger, metrics: options.metrics });
    this.replica = new Replica(this.db, client, {
      name: options.replicaName,
      logger: options.logger,
      metrics: options.metrics,
      signal: this.storage.signal,
      ...(options.schedule.maxSyncLtxFiles !== undefined ? { maxSyncLtxFiles: options.schedule.maxSyncLtxFiles } : {}),
    });
    this.schedule = options.schedule;
    this.watcher = options.schedule.watchWal
      ? new WalWatcher(this.db.walPath, () => {
          this.changedMeanwhile = true;
          this.wake?.();
        })
      : undefined;
    const validationInterval = options.schedule.validationInterval ?? 0;
    const l0Check = options.schedule.retention === false ? 0 : (options.schedule.l0RetentionCheckInterval ?? 0);
    this.tasks = [
      ...options.schedule.levels.map((l) => [compactTask(l.level), l.interval] as const),
      ['snapshot', options.schedule.snapshotInterval] as const,
      ...(validationInterval > 0 ? [['validate', validationInterval] as const] : []),
      ...(l0Check > 0 ? [[L0_RETENTION_TASK, l0Check] as const] : []),
    ];
    this.logger = options.logger.child({ db: path });
    // Sync and maintenance errors name the replica too: they are mostly the store's.
    const replicaLogger = this.logger.child({ replica: this.replica.name });
    this.syncErrors = new ErrorStreak(replicaLogger, 'sync error', 'sync resumed');
    this.maintenanceErrors = new ErrorStreak(replicaLogger, 'maintenance error', 'maintenance resumed');
    this.metrics = options.metrics;
    this.repair = new ReplicaRepair({
      client,
      metaPath: this.db.metaPath,
      db: path,
      replicaName: this.replica.name,
      logger: this.logger,
      metrics: this.metrics,
      ...(options.schedule.repairBackoff ? { backoff: options.schedule.repairBackoff } : {}),
    });
    this.validator = new ReplicaValidator(client, { logger: this.logger });
    this.leaser = options.lease ? new Leaser(client, { ttl: options.lease.ttl, logger: this.logger }) : undefined;
    this.lock = options.lease ? undefined : new ReplicationLock(path, this.db.metaPath);
    this.onFatal = options.onFatal;
    // Full images stream straight into the replica instead of being staged and copied.
    this.db.fullImageSink = async (ref, produce) => {
      this.assertLease();
      const result = await this.replica.sendFullImage(ref, produce);
      // Every full image supersedes what came before it, corrupt files included.
      await this.repair.imageUploaded(ref.maxTXID);
      return result;
    };
  }

  /**
   * Opens the database, checks that the replica belongs to it, reads the replica's position and
   * starts the loop. Without a lease, first takes the database's replication lock
   * (`DatabaseLockedError` when another replicator has it); with one, waits until this process
   * holds the lease, retrying while the store is unreachable. A replica whose owner marker names
   * another database is refused (`ReplicaOwnedError`). A replica that does not answer does not
   * stop the start: the error is logged and the loop retries with backoff (the owner check
   * included) until it answers. Rejects only for local failures (the database cannot be
   * opened), a replica owned by another database, or when stopped meanwhile.
   */
  async start(): Promise<void> {
    await this.lock?.acquire();
    let unreachable: unknown;
    try {
      if (this.leaser) {
        await this.acquireLease();
        this.leaser.startRenewing((err) => this.leaseLost(err));
      }
      try {
        await this.claim();
      } catch (err) {
        if (err instanceof ReplicaOwnedError || this.abort.signal.aborted) throw err;
        unreachable = err;
      }
      await this.db.open();
    } catch (err) {
      this.lock?.release();
      throw err;
    }
    this.opened = true;
    await this.repair.load();
    try {
      if (unreachable !== undefined) throw unreachable;
      await this.replica.init();
      this.lastSyncAt = new Date();
    } catch (err) {
      if (!this.abort.signal.aborted) this.syncFailed(err);
    }
    // stop() was called meanwhile: the loop must not start after it.
    if (this.abort.signal.aborted) {
      this.lock?.release();
      throw new LitestreamError(`stopped while starting to replicate ${this.db.path}`);
    }
    this.running = true;
    this.loop = this.run();
  }

  /** Checks (once it succeeded) that the replica's owner marker names this database, writing it when absent. */
  private async claim(): Promise<void> {
    if (this.claimed) return;
    await claimReplica(this.replica.client, { database: this.db.path, metaPath: this.db.metaPath, logger: this.logger, signal: this.storage.signal });
    this.claimed = true;
  }

  /**
   * Stops the loop, then syncs until the replica has everything or `timeout` passes. At the
   * deadline every storage call still under way is aborted, so this returns in about `timeout`
   * whatever the store does. Resolves with whether the replica got everything; logs
   * `final sync incomplete` when it did not. A timeout of 0 skips the final sync.
   */
  async stop(timeout: number): Promise<StopOutcome> {
    this.running = false;
    this.watcher?.close();
    this.abort.abort();
    this.wake?.();
    const deadline = Date.now() + timeout;
    const reason = new LitestreamError(`shutdown-sync-timeout (${formatTimeout(timeout)}) reached`);
    const timer = setTimeout(() => this.storage.abort(reason), Math.max(0, timeout));
    try {
      await this.loop;
      await this.maintenance;
      if (!this.opened) return { synced: true, status: this.status() };
      if ((this.leaser && !this.leaser.held) || this.refusal) {
        // Without the lease, or on another database's replica, nothing may be written to it.
        await this.db.close();
        this.lock?.release();
        return { synced: true, status: this.status() };
      }
      if (timeout > 0) await this.finalSync(deadline);
    } finally {
      clearTimeout(timer);
    }
    const status = this.status();
    const synced = timeout <= 0 || status.inSync;
    if (!synced) {
      this.logger.error('final sync incomplete', {
        replica: this.replica.name,
        localTXID: formatTXID(status.localTXID),
        remoteTXID: formatTXID(status.remoteTXID),
        ...(status.lastError ? { error: status.lastError } : {}),
      });
    }
    await this.db.close();
    this.lock?.release();
    // Giving the lease back is a courtesy (it expires anyway): bounded, and never fatal.
    await this.leaser?.release({ signal: AbortSignal.timeout(5000) }).catch((err: Error) => this.logger.warn('lease not released', { error: err.message }));
    return { synced, status };
  }

  /** Syncs until the replica holds everything or the deadline passes; keeps the last error. */
  private async finalSync(deadline: number): Promise<void> {
    const signal = this.storage.signal;
    for (;;) {
      try {
        await this.syncOnce();
        if (this.status().inSync) return;
      } catch (err) {
        this.lastError = (err as Error).message;
        if (Date.now() >= deadline || signal.aborted) return;
        await sleep(Math.min(500, deadline - Date.now()), undefined, { signal }).catch(() => {});
        continue;
      }
      if (Date.now() >= deadline) return;
    }
  }

  /** Takes the lease, retrying with backoff while the store cannot be reached; ends when stopped. */
  private async acquireLease(): Promise<void> {
    const errors = new ErrorStreak(this.logger.child({ replica: this.replica.name }), 'lease error', 'lease reachable');
    for (;;) {
      try {
        await this.leaser!.acquire({ signal: this.abort.signal });
        errors.succeed();
        return;
      } catch (err) {
        if (this.abort.signal.aborted) throw err;
        errors.fail(err);
        await sleep(this.backoff(errors.failures), undefined, { signal: this.abort.signal });
      }
    }
  }

  /** Syncs the database and uploads now. */
  async syncOnce(): Promise<void> {
    // A replica that could not be reached at start is checked for its owner before any upload.
    await this.claim();
    // After a failed upload the replica's position is read again before anything is written.
    if (!this.replica.positionKnown) await this.replica.init();
    await this.db.syncAndMaybeCheckpoint();
    this.assertLease();
    await this.replica.sync();
    this.lastSyncAt = new Date();
  }

  private assertLease(): void {
    if (this.leaser && !this.leaser.held) throw new LeaseLostError('the replica lease expired before it could be renewed; not uploading');
  }

  /** The replica turned out to belong to another database (it could not be read at start): stop. */
  private refused(err: ReplicaOwnedError): void {
    this.refusal = err;
    this.logger.error('replica belongs to another database', { error: err.message });
    this.running = false;
    this.wake?.();
    this.onFatal?.(err);
  }

  private leaseLost(err: Error): void {
    this.logger.error('lease lost', { error: err.message });
    this.running = false;
    this.wake?.();
    this.onFatal?.(err);
  }

  /**
   * Syncs, then uploads until the replica holds at least the TXID that sync reached. The loop
   * may stage newer files meanwhile; those are not waited for.
   */
  async syncAndWait(): Promise<void> {
    await this.claim();
    if (!this.replica.positionKnown) await this.replica.init();
    await this.db.syncAndMaybeCheckpoint();
    const target = this.db.position?.txid ?? 0;
    this.assertLease();
    await this.replica.sync();
    // A long backlog goes up in passes of maxSyncLtxFiles files.
    while (this.replica.backlog && (this.replica.position?.txid ?? 0) < target) {
      this.assertLease();
      await this.replica.sync();
    }
    // Uploading may have found the chain broken (a damaged staged file, a replica that lost
    // files): the full image that repairs it holds everything up to now, so ship it too.
    if (this.db.fullImagePending) {
      await this.db.sync();
      await this.replica.sync();
    }
    const remote = this.replica.position?.txid ?? 0;
    if (remote < target || this.db.fullImagePending) {
      throw new LitestreamError(`replica of ${this.db.path} is at TXID ${formatTXID(remote)}, local is at ${formatTXID(this.db.position?.txid ?? target)}`);
    }
    this.lastSyncAt = new Date();
  }

  status(): SyncStatus {
    const localTXID = this.db.position?.txid ?? 0;
    const remoteTXID = this.replica.position?.txid ?? 0;
    const lastError = this.lastError ?? this.syncErrors.lastError;
    const corrupt = this.repair.corruptFiles;
    return {
      path: this.db.path,
      localTXID,
      remoteTXID,
      inSync: remoteTXID >= localTXID && !this.db.fullImagePending,
      ...(lastError ? { lastError } : {}),
      healthy: this.repair.healthy,
      ...(corrupt.length > 0 ? { corruptFiles: corrupt.map((f) => f.file) } : {}),
      ...(this.lastSyncAt ? { lastSyncAt: this.lastSyncAt } : {}),
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.watcher?.rearm();
      // A corrupt replica is repaired by a full image, once any backoff has passed.
      const repair = this.repair.takeRequest();
      if (repair) this.db.requestSnapshot(repair);
      // The common case of an idle database: one stat, no promise chain, no request.
      if (this.quiet()) {
        // Woken on the interval's grid, so idle databases share timer wake-ups.
        const interval = this.schedule.monitorInterval;
        await this.sleep(interval - (Date.now() % interval));
        continue;
      }
      if (this.attempt === undefined && Date.now() >= this.retryAt) this.attempt = this.syncAttempt();
      const attempt = this.attempt;
      // A sync that ends within a tick is waited for, as always. One that waits on the store
      // longer (a stall, a slow upload) goes on beside the loop, and so do the backoff's pauses:
      // meanwhile new commits are staged locally on every tick, so the WAL can be checkpointed
      // and nothing waits on the store.
      const settled = attempt !== undefined && (await settledWithin(attempt, this.schedule.monitorInterval));
      if (!settled && (attempt !== undefined || this.syncErrors.failures > 0)) await this.stageLocally();
      if (!this.running) break;
      const delay = this.syncErrors.failures === 0 ? this.schedule.monitorInterval : Math.max(0, Math.min(this.schedule.monitorInterval, this.retryAt - Date.now()));
      await this.sleep(delay);
    }
    await this.attempt;
  }

  /** One sync and upload; logs a failure and schedules the retry, starts maintenance after a success. */
  private syncAttempt(): Promise<void> {
    return this.syncOnce()
      .then(
        () => {
          this.syncErrors.succeed();
          this.retryAt = 0;
          this.startMaintenance();
          // Files left by maxSyncLtxFiles go up in the next pass, without waiting for a tick.
          if (this.replica.backlog) this.changedMeanwhile = true;
        },
        (err: unknown) => {
          // Stopping aborted it: the final sync says how things stand.
          if (!this.running && this.storage.signal.aborted) return;
          if (err instanceof ReplicaOwnedError) return this.refused(err);
          this.syncFailed(err);
        },
      )
      .finally(() => {
        this.attempt = undefined;
      });
  }

  /** Logs a failed sync (see `ErrorStreak`) and schedules the next upload attempt. */
  private syncFailed(err: unknown): void {
    this.syncErrors.fail(err);
    this.retryAt = Date.now() + this.backoff(this.syncErrors.failures);
  }

  /** `syncInterval` doubled per failure, up to `maxBackoff`. */
  private backoff(failures: number): number {
    return Math.min(this.schedule.maxBackoff, this.schedule.syncInterval * 2 ** failures);
  }

  /**
   * Copies new commits into the staging directory without touching the replica, once the
   * replica's position was read in this process (before that, the next file's TXID may have
   * to follow the replica). A pending full image goes straight to the replica, so it waits
   * for the next upload attempt. Failures are left to that attempt, which meets them too.
   */
  private async stageLocally(): Promise<void> {
    if (!this.replica.contacted || this.db.fullImagePending) return;
    try {
      await this.db.syncAndMaybeCheckpoint();
    } catch (err) {
      this.logger.debug('local staging failed', { error: (err as Error).message });
    }
  }

  /** Nothing to sync, upload or maintain: the database is idle and the replica has it all. */
  private quiet(): boolean {
    if (this.syncErrors.failures > 0 || !this.replica.positionKnown || !this.db.idle()) return false;
    const txid = this.replica.position?.txid ?? 0;
    if (txid < (this.db.position?.txid ?? 0)) return false;
    return !this.maintenanceDue(txid);
  }

  /** Some maintenance task would run now (see `isDue`). */
  private maintenanceDue(txid: number): boolean {
    const now = Date.now();
    for (const [task, interval] of this.tasks) if (this.isDue(task, interval, txid, now)) return true;
    return false;
  }

  /**
   * A task is due when the replica moved past the TXID it last saw and its interval has passed
   * since it last ran (the first interval counts from start). The L0 retention check is also
   * due while compacted L0 files wait to age out, so they go even if no commit follows.
   */
  private isDue(task: string, interval: number, txid: number, now: number): boolean {
    let last = this.maintainedAt.get(task);
    if (!last) this.maintainedAt.set(task, (last = { txid: 0, time: now }));
    const moved = txid > last.txid || (task === L0_RETENTION_TASK && this.l0Pending);
    return moved && now - last.time >= interval;
  }

  private sleep(ms: number): Promise<void> {
    if (this.changedMeanwhile) {
      this.changedMeanwhile = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = () => {
        this.changedMeanwhile = false;
        done();
      };
    });
  }

  /**
   * Starts maintenance when a task is due, beside the sync loop: compacting a large level or
   * writing a snapshot can take seconds, and commits must not wait for it.
   */
  private startMaintenance(): void {
    if (this.maintenance || !this.maintenanceDue(this.replica.position?.txid ?? 0)) return;
    // Without the lease nothing may be written to the replica; the loop stops soon anyway.
    if (this.leaser && !this.leaser.held) return;
    this.maintenance = this.maintain()
      .then(
        () => this.maintenanceErrors.succeed(),
        (err: unknown) => {
          // Stopping abandons maintenance: not an error.
          if (!this.abort.signal.aborted) this.maintenanceErrors.fail(err);
        },
      )
      .finally(() => {
        this.maintenance = undefined;
      });
  }

  /**
   * Compaction, snapshots, retention and validation, each when due and only if the replica
   * moved on. A corrupt replica file any of them finds is handed to the repair (and ends this
   * run); the corrupt files a finished repair superseded are deleted first.
   */
  private async maintain(): Promise<void> {
    await this.repair.cleanup();
    let finder: CorruptionFinder = 'compaction';
    try {
      await this.maintainTasks((task) => (finder = task));
    } catch (err) {
      if (!(err instanceof CorruptReplicaFileError) || !(await this.repair.report(err, finder))) throw err;
      // The sync loop writes the full image that repairs it.
      this.changedMeanwhile = true;
      this.wake?.();
    }
  }

  private async maintainTasks(running: (task: CorruptionFinder) => void): Promise<void> {
    const client = this.replica.client;
    const txid = this.replica.position?.txid ?? 0;
    // Stopping abandons maintenance at once: the final sync matters more than a compaction.
    const signal = this.abort.signal;
    let changed = false;
    for (const level of this.schedule.levels) {
      if (await this.due(compactTask(level.level), level.interval, txid, () => compactLevel(client, level.level, { logger: this.logger, signal }))) changed = true;
    }
    running('snapshot');
    if (await this.due('snapshot', this.schedule.snapshotInterval, txid, () => writeReplicaSnapshot(client, { logger: this.logger, signal }))) changed = true;
    if (changed && this.schedule.retention === false) {
      this.logger.debug('retention disabled: no replica file deleted');
      await this.pruneLocal();
    } else if (changed) {
      const result = await enforceRetention(client, {
        snapshotRetention: this.schedule.snapshotRetention,
        l0Retention: this.schedule.l0Retention,
        levels: this.schedule.levels.map((l) => l.level),
        logger: this.logger,
        signal,
      });
      if (result.deleted.length > 0) this.logger.debug('retention enforced', { deleted: result.deleted.length });
      await this.pruneLocal();
    }
    const l0Check = this.tasks.find(([task]) => task === L0_RETENTION_TASK)?.[1];
    if (l0Check !== undefined && changed) {
      // Level 0 was just handled with the rest; what it kept may age out before the next compaction.
      this.l0Pending = true;
      this.maintainedAt.set(L0_RETENTION_TASK, { txid, time: Date.now() });
    } else if (l0Check !== undefined) {
      await this.due(L0_RETENTION_TASK, l0Check, txid, async () => {
        const result = await enforceL0Retention(client, { l0Retention: this.schedule.l0Retention, logger: this.logger, signal });
        this.l0Pending = result.waiting > 0;
        await this.pruneLocal();
      });
    }
    running('validation');
    const validation = this.schedule.validationInterval ?? 0;
    if (validation > 0) await this.due('validate', validation, txid, async () => void (await this.validator.validate()));
  }

  private async due(task: string, interval: number, txid: number, run: () => Promise<unknown>): Promise<boolean> {
    const now = Date.now();
    if (!this.isDue(task, interval, txid, now)) return false;
    this.maintainedAt.set(task, { txid, time: now });
    return (await run()) !== undefined;
  }

  /**
   * Deletes staged files the replica holds and that are older than l0-retention, keeping the
   * newest (it carries the local position), and reports the L0 retention gauges.
   */
  private async pruneLocal(): Promise<void> {
    const remote = this.replica.position?.txid ?? 0;
    const files = await this.db.local.list();
    const cutoff = Date.now() - this.schedule.l0Retention;
    const old = [];
    let notShipped = 0;
    let tooRecent = 0;
    for (const [i, f] of files.entries()) {
      if (f.maxTXID > remote) notShipped += 1;
      else if (i === files.length - 1 || old.length < i || (await this.db.local.readEnds(f)).header.timestamp > cutoff) tooRecent += 1;
      else old.push(f);
    }
    this.metrics.l0RetentionFiles(this.db.path, 'eligible', old.length);
    this.metrics.l0RetentionFiles(this.db.path, 'not_compacted', notShipped);
    this.metrics.l0RetentionFiles(this.db.path, 'too_recent', tooRecent);
    if (old.length > 0) {
      await this.db.local.remove(old);
      this.logger.debug('staged files removed', { count: old.length, through: formatTXID(old[old.length - 1]!.maxTXID) });
    }
  }
}

/** Whether `promise` settles within `ms` (it is never rejected: callers handle its failure). */
function settledWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** The periodic L0 retention check (`l0RetentionCheckInterval`). */
const L0_RETENTION_TASK = 'l0-retention';

function compactTask(level: number): string {
  return `compact-${level}`;
}
