import { DEFAULT_COMPACTION_LEVELS, validateCompactionLevels, type CompactionLevel } from '../compaction/compaction-level.ts';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import type { DBOptions } from './db-options.ts';
import { silentLogger, type Logger } from './logger.ts';
import { noMetrics, type EngineMetrics } from './metrics.ts';
import { ReplicatedDatabase, type ReplicationSchedule, type SyncStatus } from './replicated-database.ts';
import type { RepairBackoff } from './replica-repair.ts';

/** One database to replicate and where to. */
export interface StoreDatabase {
  readonly path: string;
  readonly replica: ReplicaClient;
  readonly replicaName?: string;
  readonly db?: Omit<DBOptions, 'logger' | 'metrics'>;
  /**
   * Hold a lease (`lock.json` in the replica) while replicating, so only one process writes
   * to the replica; others wait and take over when it expires. Needs conditional writes.
   */
  readonly lease?: { readonly ttl: number };
  /** Event-driven sync for this database (default: the store's `watchWal`). */
  readonly watchWal?: boolean;
  /** Validation interval of this database's replica, ms (default: the store's `validationInterval`). */
  readonly validationInterval?: number;
  /**
   * Most staged L0 files one upload pass sends to the replica (default 256, Litestream's
   * `max-sync-ltx-files`; 0: no limit). A longer backlog (after an outage) goes up in several
   * passes, one right after the other, so compaction and shutdown get a turn between them.
   */
  readonly maxSyncLtxFiles?: number;
}

/** Settings of a store; names and defaults follow Litestream v0.5. */
export interface StoreOptions {
  readonly databases: readonly StoreDatabase[];
  /** How often each database is checked for new commits, ms (default 1000). */
  readonly monitorInterval?: number;
  /** Base of the retry backoff, ms (default 1000); backoff doubles up to 5 minutes. */
  readonly syncInterval?: number;
  /**
   * Event-driven sync: ship a commit as soon as the `-wal` file changes (a file watcher,
   * debounced by a couple of milliseconds) instead of at the next monitor tick. Commits that
   * arrive while an upload is under way go out together in the next one. The monitor tick
   * goes on as a safety net. Default false.
   */
  readonly watchWal?: boolean;
  /** Compaction levels (default L1 30 s, L2 5 min, L3 1 h). */
  readonly levels?: readonly CompactionLevel[];
  /** How often a level-9 snapshot is written, ms (default 24 h). */
  readonly snapshotInterval?: number;
  /** How long snapshots are kept, ms (default 24 h). */
  readonly snapshotRetention?: number;
  /** How long L0 files stay after compaction, ms (default 5 min). */
  readonly l0Retention?: number;
  /**
   * Also enforce L0 retention this often, ms, while compacted L0 files wait to age out
   * (Litestream's `l0-retention-check-interval`). Default 0: L0 retention runs only after each
   * compaction and snapshot, so on a database that went idle compacted L0 files may stay until
   * the next compaction of a higher level. The check stops once nothing is left to age out, so
   * an idle database still makes no storage requests.
   */
  readonly l0RetentionCheckInterval?: number;
  /**
   * Delete replica files that retention releases (default true). False keeps every file on the
   * replica (snapshots past `snapshotRetention`, compacted files, L0 files past `l0Retention`),
   * for stores whose own lifecycle rules expire old objects; staged files on the local disk are
   * still pruned, and corrupt replica files a repair superseded are still deleted. As Litestream
   * v0.5's `retention.enabled: false`.
   */
  readonly retention?: boolean;
  /**
   * How often each replica is validated, ms (default 0: never). A validation re-reads and
   * verifies the replica files a restore of the latest state would use that no earlier
   * validation read (at most 256 MiB a run), and checks that they chain; a corrupt file is
   * repaired with a full image, as when compaction or a snapshot finds one.
   */
  readonly validationInterval?: number;
  /**
   * Spacing of full-image repairs while replica corruption keeps recurring (default: the first
   * at once, then 1 min doubling up to 1 h).
   */
  readonly repairBackoff?: RepairBackoff;
  /**
   * How long `stop()` keeps trying to ship the last commits, ms (default 30 s). At the deadline
   * every storage call still under way is aborted, so `stop()` returns in about this time.
   */
  readonly shutdownSyncTimeout?: number;
  readonly logger?: Logger;
  readonly metrics?: EngineMetrics;
  /** Called when a database cannot go on (its lease was lost); the host should stop the store. */
  readonly onFatal?: (err: Error) => void;
}

const HOUR = 3_600_000;

/** `stop()` released everything, but the replicas of some databases did not get their last commits. */
export class FinalSyncError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_FINAL_SYNC';
  /** The databases whose final sync did not complete, with their last error. */
  readonly databases: readonly SyncStatus[];
  constructor(databases: readonly SyncStatus[]) {
    super(
      `final sync incomplete: ${databases
        .map((d) => `${d.path} (replica at TXID ${formatTXID(d.remoteTXID)}, local at ${formatTXID(d.localTXID)}${d.lastError ? `: ${d.lastError}` : ''})`)
        .join('; ')}`,
    );
    this.databases = databases;
  }
}

/**
 * Replicates many databases at once, in-process. `start()` opens each database, reconciles
 * it with its replica and begins syncing; `stop()` does a final sync within
 * `shutdownSyncTimeout` and releases everything.
 *
 * ```ts
 * const store = new Store({ databases: [{ path: 'app.db', replica: new FileReplicaClient('/backups/app') }] });
 * await store.start();
 * // … the app writes with its own connection …
 * await store.syncAndWait('app.db');
 * await store.stop();
 * ```
 */
export class Store {
  private readonly databases: ReplicatedDatabase[];
  private readonly shutdownSyncTimeout: number;
  private readonly build: (database: StoreDatabase) => ReplicatedDatabase;
  private started = false;
  private starting = false;
  private startup: Promise<void> | undefined;
  /** Databases being added or removed, so one path is never added twice or removed mid-add. */
  private readonly busy = new Set<string>();

  constructor(options: StoreOptions) {
    const levels = options.levels ?? DEFAULT_COMPACTION_LEVELS;
    validateCompactionLevels(levels);
    for (const [name, value] of [['monitorInterval', options.monitorInterval], ['syncInterval', options.syncInterval]] as const) {
      if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new UsageError(`${name} must be a positive number of milliseconds, got ${value}`);
    }
    checkValidationIntervals(options);
    const schedule: ReplicationSchedule = {
      monitorInterval: options.monitorInterval ?? 1000,
      syncInterval: options.syncInterval ?? 1000,
      watchWal: options.watchWal ?? false,
      levels,
      snapshotInterval: options.snapshotInterval ?? 24 * HOUR,
      snapshotRetention: options.snapshotRetention ?? 24 * HOUR,
      l0Retention: options.l0Retention ?? 5 * 60_000,
      retention: options.retention ?? true,
      l0RetentionCheckInterval: options.l0RetentionCheckInterval ?? 0,
      maxBackoff: 5 * 60_000,
      validationInterval: options.validationInterval ?? 0,
      ...(options.repairBackoff ? { repairBackoff: options.repairBackoff } : {}),
    };
    const logger = options.logger ?? silentLogger;
    const metrics = options.metrics ?? noMetrics;
    this.build = (d) =>
      new ReplicatedDatabase(d.path, d.replica, {
        db: d.db,
        replicaName: d.replicaName,
        schedule: {
          ...schedule,
          ...(d.watchWal !== undefined ? { watchWal: d.watchWal } : {}),
          ...(d.validationInterval !== undefined ? { validationInterval: d.validationInterval } : {}),
          ...(d.maxSyncLtxFiles !== undefined ? { maxSyncLtxFiles: d.maxSyncLtxFiles } : {}),
        },
        logger,
        metrics,
        ...(d.lease ? { lease: d.lease } : {}),
        ...(options.onFatal ? { onFatal: options.onFatal } : {}),
      });
    const paths = new Set<string>();
    this.databases = options.databases.map((d) => {
      if (paths.has(d.path)) throw new UsageError(`database ${d.path} is listed twice`);
      paths.add(d.path);
      return this.build(d);
    });
    this.shutdownSyncTimeout = options.shutdownSyncTimeout ?? 30_000;
  }

  /**
   * Opens every database and starts replicating. If one fails to open, the others are stopped.
   * A replica that cannot be reached does not fail the start: the error is logged (`sync error`)
   * and retried with backoff, and replication begins when the store answers. A database with a
   * lease waits here until its lease is free.
   */
  async start(): Promise<void> {
    if (this.started) return;
    if (this.startup) return this.startup;
    this.startup = this.startAll().finally(() => {
      this.startup = undefined;
    });
    return this.startup;
  }

  private async startAll(): Promise<void> {
    this.starting = true;
    const started: ReplicatedDatabase[] = [];
    try {
      for (const d of this.databases) {
        await d.start();
        started.push(d);
      }
    } catch (err) {
      await Promise.all(started.map((d) => d.stop(0)));
      // The one that failed may have opened its database before failing.
      await Promise.all(this.databases.filter((d) => !started.includes(d)).map((d) => d.stop(0)));
      this.starting = false;
      throw err;
    }
    this.starting = false;
    this.started = true;
  }

  /**
   * Final sync of every database (within `shutdownSyncTimeout`, or `options.timeout`; 0 skips
   * it), then closes them. Rejects with `FinalSyncError` when some replica did not get every
   * staged commit, once everything is closed.
   */
  async stop(options: { timeout?: number } = {}): Promise<void> {
    // Stopping while start() waits for a lease aborts the wait.
    if (this.starting) await Promise.all(this.databases.map((d) => d.stop(0)).map((p) => p.catch(() => {})));
    if (!this.started) return;
    this.started = false;
    const timeout = options.timeout ?? this.shutdownSyncTimeout;
    const outcomes = await Promise.all(this.databases.map((d) => d.stop(timeout)));
    const unsynced = outcomes.filter((o) => !o.synced).map((o) => o.status);
    if (unsynced.length > 0) throw new FinalSyncError(unsynced);
  }

  /**
   * Adds a database while the store runs (or before it starts): once this resolves, it is
   * replicated like the others. On a running store it is opened and started here; when that
   * fails (the database cannot be opened, another replicator holds it, its replica belongs to
   * another database) it is not added and the error is thrown. A path already in the store is
   * a `UsageError`.
   */
  async add(database: StoreDatabase): Promise<void> {
    checkValidationIntervals({ databases: [database] });
    if (this.busy.has(database.path) || this.databases.some((d) => d.db.path === database.path)) {
      throw new UsageError(`database ${database.path} is already in this store`);
    }
    this.busy.add(database.path);
    try {
      await this.startup?.catch(() => {});
      const replicated = this.build(database);
      if (this.started) {
        try {
          await replicated.start();
        } catch (err) {
          await replicated.stop(0).catch(() => {});
          throw err;
        }
        if (!this.started) {
          // The store was stopped while this database was starting.
          await replicated.stop(0).catch(() => {});
          throw new LitestreamError(`stopped while adding ${database.path}`);
        }
      }
      this.databases.push(replicated);
    } finally {
      this.busy.delete(database.path);
    }
  }

  /**
   * Stops replicating one database and releases it (its file, its replication lock, its
   * lease), after a final sync within `shutdownSyncTimeout` (or `options.timeout`; 0 skips it).
   * The database leaves the store even when the final sync fails, which is then reported with
   * `FinalSyncError`. A path not in the store is a `UsageError`. Resolves with the database's
   * status after its final sync.
   */
  async remove(path: string, options: { timeout?: number } = {}): Promise<SyncStatus> {
    if (this.busy.has(path)) throw new UsageError(`database ${path} is being added or removed`);
    const replicated = this.select(path)[0]!;
    this.busy.add(path);
    try {
      this.databases.splice(this.databases.indexOf(replicated), 1);
      const outcome = await replicated.stop(options.timeout ?? this.shutdownSyncTimeout);
      if (!outcome.synced) throw new FinalSyncError([outcome.status]);
      return outcome.status;
    } finally {
      this.busy.delete(path);
    }
  }

  /** The paths of the databases in the store, in the order they were added. */
  paths(): string[] {
    return this.databases.map((d) => d.db.path);
  }

  /** Syncs one database (or all) and uploads now, without waiting for the next tick. */
  async sync(path?: string): Promise<void> {
    for (const d of this.select(path)) await d.syncOnce();
  }

  /** Syncs and uploads; resolves once the replica holds everything committed before the call. */
  async syncAndWait(path?: string): Promise<void> {
    for (const d of this.select(path)) await d.syncAndWait();
  }

  /** Local versus replica TXID for each database. */
  syncStatus(): SyncStatus[] {
    return this.databases.map((d) => d.status());
  }

  private select(path: string | undefined): ReplicatedDatabase[] {
    if (path === undefined) return this.databases;
    const found = this.databases.filter((d) => d.db.path === path);
    if (found.length === 0) throw new UsageError(`database ${path} is not in this store`);
    return found;
  }
}

function checkValidationIntervals(options: StoreOptions): void {
  const values: Array<[string, number | undefined]> = [['validationInterval', options.validationInterval], ['l0RetentionCheckInterval', options.l0RetentionCheckInterval], ...options.databases.map((d): [string, number | undefined] => [`validationInterval of ${d.path}`, d.validationInterval])];
  for (const [name, value] of values) {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) throw new UsageError(`${name} must be a non-negative number of milliseconds (0: off), got ${value}`);
  }
  for (const d of options.databases) {
    const limit = d.maxSyncLtxFiles;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0)) throw new UsageError(`maxSyncLtxFiles of ${d.path} must be a whole number of 0 or more (0: no limit), got ${limit}`);
  }
  const backoff = options.repairBackoff;
  if (backoff && !(Number.isFinite(backoff.initial) && backoff.initial > 0 && Number.isFinite(backoff.max) && backoff.max >= backoff.initial)) {
    throw new UsageError(`repairBackoff needs a positive initial delay and a max at least as long, got ${backoff.initial} and ${backoff.max}`);
  }
}
