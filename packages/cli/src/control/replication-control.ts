import { resolve } from 'node:path';
import { FinalSyncError, type Logger, type ReplicaClient, type Store, type StoreDatabase, type SyncStatus } from '@litestream-ts/core';
import { ControlError } from './control-error.ts';
import type {
  DatabaseInfoResponse,
  DatabaseState,
  DatabaseSummary,
  InfoResponse,
  ListResponse,
  RegisterResponse,
  StartStopResponse,
  SyncResponse,
  UnregisterResponse,
} from './protocol.ts';

/** A database `replicate` was started with, as the control socket may start it again. */
export interface ControlledDatabase {
  readonly spec: StoreDatabase;
  /** Where it is replicated to, for `info` (no credentials). */
  readonly replica: string;
}

/** A database built for `litestream register`. */
export interface BuiltDatabase extends ControlledDatabase {
  readonly client: ReplicaClient;
}

/** What {@link ReplicationControl} works on. */
export interface ReplicationControlOptions {
  readonly store: Store;
  /** The databases of the config, each replicated when this starts. */
  readonly databases: readonly ControlledDatabase[];
  /**
   * Builds a database for `register` (checks the path and URL, creates the replica client) with
   * the defaults `replicate DB URL` uses. Throws a message-bearing error for bad input.
   */
  readonly build: (path: string, replicaURL: string) => Promise<BuiltDatabase>;
  /** Takes a registered database's client into the set `replicate` closes when it ends. */
  readonly adopt: (client: ReplicaClient) => void;
  /** Closes a client of an unregistered database and forgets it. */
  readonly release: (client: ReplicaClient) => Promise<void>;
  readonly logger: Logger;
  readonly version: string;
  /** When `replicate` started serving. */
  readonly startedAt: Date;
}

interface Entry {
  /** How to start it again; unknown for databases another part of `replicate` added. */
  readonly spec?: StoreDatabase;
  readonly replica: string;
  readonly source: DatabaseInfoResponse['source'];
  readonly url?: string;
  readonly client?: ReplicaClient;
  /** Its status when it was stopped. */
  stopped?: SyncStatus;
}

/** Default bound of the requests that wait (start, stop, sync -wait, register, unregister), ms. */
const DEFAULT_TIMEOUT = 30_000;

/**
 * What the control socket's commands do to a running `replicate`: list and describe its
 * databases, sync one now, stop one (final sync, then it is released; it stays known so `start`
 * can add it again), register a new one or unregister one, all without touching the config
 * file. Databases are named by absolute path.
 */
export class ReplicationControl {
  private readonly options: ReplicationControlOptions;
  private readonly entries = new Map<string, Entry>();
  /** Starts and removals under way, which `replicate` lets finish before it stops the store. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Databases being added by `start` or `register`. */
  private readonly starting = new Set<string>();

  constructor(options: ReplicationControlOptions) {
    this.options = options;
    for (const d of options.databases) this.entries.set(d.spec.path, { spec: d.spec, replica: d.replica, source: 'config' });
  }

  /** `GET /info` without a path. */
  daemonInfo(): InfoResponse {
    const { startedAt } = this.options;
    return {
      version: this.options.version,
      pid: process.pid,
      uptime_seconds: Math.floor((Date.now() - startedAt.getTime()) / 1000),
      started_at: startedAt.toISOString(),
      database_count: this.knownPaths().length,
    };
  }

  /** `GET /list`: every database, replicating or stopped. */
  list(): ListResponse {
    const statuses = this.statuses();
    return {
      databases: this.knownPaths().map((path): DatabaseSummary => {
        const status = statuses.get(path) ?? this.entries.get(path)?.stopped;
        return {
          path,
          status: statuses.has(path) ? 'replicating' : this.starting.has(path) ? 'starting' : 'stopped',
          ...(status?.lastSyncAt ? { last_sync_at: status.lastSyncAt.toISOString() } : {}),
          txid: status?.localTXID ?? 0,
          replica_txid: status?.remoteTXID ?? 0,
          ...(status?.lastError ? { last_error: status.lastError } : {}),
        };
      }),
    };
  }

  /** `GET /info?path=DB`. */
  info(path: string): DatabaseInfoResponse {
    const { entry, status, state } = this.lookup(path);
    const s: SyncStatus = status ?? { path, localTXID: 0, remoteTXID: 0, inSync: false, healthy: true };
    return {
      path: this.absolute(path),
      status: state,
      replica: entry?.replica ?? 'unknown',
      source: entry?.source ?? 'other',
      txid: s.localTXID,
      replica_txid: s.remoteTXID,
      lag: Math.max(0, s.localTXID - s.remoteTXID),
      in_sync: s.inSync,
      healthy: s.healthy,
      ...(s.lastSyncAt ? { last_sync_at: s.lastSyncAt.toISOString() } : {}),
      ...(s.lastError ? { last_error: s.lastError } : {}),
      ...(s.corruptFiles?.length ? { corrupt_files: s.corruptFiles } : {}),
    };
  }

  /** `GET /txid?path=DB`: the last local TXID. */
  txid(path: string): number {
    return this.lookup(path).status?.localTXID ?? 0;
  }

  /**
   * `POST /sync`. With `wait`, resolves once the replica holds everything committed before the
   * call (within the timeout); without, starts a sync now and answers at once.
   */
  async sync(path: string, wait: boolean, timeout: number | undefined): Promise<SyncResponse> {
    const abs = this.absolute(path);
    const { state } = this.lookup(abs);
    if (state === 'starting') throw new ControlError(409, `database ${abs} is starting; sync it once it runs`);
    if (state !== 'replicating') throw new ControlError(409, `database ${abs} is stopped; run litestream start ${abs} first`);
    if (!wait) {
      const before = this.statusOf(abs);
      this.options.store.sync(abs).catch((err: Error) => this.options.logger.warn('requested sync failed', { db: abs, error: err.message }));
      return { status: 'sync_started', path: abs, txid: before?.localTXID ?? 0, replicated_txid: before?.remoteTXID ?? 0 };
    }
    const ms = timeout ?? DEFAULT_TIMEOUT;
    const synced = this.options.store.syncAndWait(abs).catch((err: Error) => {
      throw new ControlError(500, `the replica of ${abs} does not hold everything yet: ${err.message}`);
    });
    await bounded(synced, ms, () => {
      const s = this.statusOf(abs);
      return `the replica of ${abs} did not catch up within ${seconds(ms)}${s ? ` (replica at TXID ${s.remoteTXID}, local at ${s.localTXID}${s.lastError ? `; last error: ${s.lastError}` : ''})` : ''}`;
    });
    const after = this.statusOf(abs);
    return { status: 'synced', path: abs, txid: after?.localTXID ?? 0, replicated_txid: after?.remoteTXID ?? 0 };
  }

  /** `POST /start`: replicates a stopped database again. */
  async start(path: string, timeout: number | undefined): Promise<StartStopResponse> {
    const abs = this.absolute(path);
    const { entry, state } = this.lookup(abs);
    if (state === 'replicating') return { status: 'already_running', path: abs, txid: this.statusOf(abs)?.localTXID ?? 0 };
    if (state === 'starting') throw new ControlError(409, `database ${abs} is starting already`);
    if (!entry?.spec) throw new ControlError(409, `database ${abs} cannot be started here`);
    const ms = timeout ?? DEFAULT_TIMEOUT;
    await bounded(this.add(entry.spec), ms, () => `database ${abs} did not start within ${seconds(ms)}; it goes on starting (see the log)`);
    entry.stopped = undefined;
    this.options.logger.info('database started by control command', { db: abs });
    return { status: 'started', path: abs, txid: this.statusOf(abs)?.localTXID ?? 0 };
  }

  /** `POST /stop`: final sync (within the timeout), then the database is released but kept for `start`. */
  async stop(path: string, timeout: number | undefined): Promise<StartStopResponse> {
    const abs = this.absolute(path);
    const { state, status } = this.lookup(abs);
    if (state === 'starting') throw new ControlError(409, `database ${abs} is starting; stop it once it runs`);
    if (state === 'stopped') return { status: 'already_stopped', path: abs, txid: status?.localTXID ?? 0 };
    const final = await this.remove(abs, timeout);
    this.markStopped(abs, final);
    this.options.logger.info('database stopped by control command', { db: abs, txid: final.localTXID });
    return { status: 'stopped', path: abs, txid: final.localTXID };
  }

  /** `POST /register`: replicates a database that is not in the config, until `unregister` or exit. */
  async register(path: string, replicaURL: string, timeout: number | undefined): Promise<RegisterResponse> {
    const abs = this.absolute(path);
    const existing = this.entries.get(abs);
    if (existing || this.options.store.paths().includes(abs)) {
      if (existing?.url === replicaURL) return { status: 'already_registered', path: abs };
      throw new ControlError(409, `database ${abs} is already replicated here (to ${existing?.replica ?? 'another replica'}); unregister it first`);
    }
    let built: BuiltDatabase;
    try {
      built = await this.options.build(abs, replicaURL);
    } catch (err) {
      throw new ControlError(400, (err as Error).message);
    }
    this.options.adopt(built.client);
    const ms = timeout ?? DEFAULT_TIMEOUT;
    const entry: Entry = { spec: built.spec, replica: built.replica, source: 'register', url: replicaURL, client: built.client };
    // Known from now on, so a second register waits for this one's outcome instead of racing it.
    this.entries.set(abs, entry);
    const adding = this.add(built.spec).catch(async (err: unknown) => {
      this.entries.delete(abs);
      await this.options.release(built.client);
      throw err;
    });
    await bounded(adding, ms, () => `database ${abs} did not start within ${seconds(ms)}; it goes on starting (see the log)`);
    this.options.logger.info('database registered', { db: abs, replica: built.replica });
    return { status: 'registered', path: abs };
  }

  /** `POST /unregister`: final sync, release, and forget the database (the config file is not touched). */
  async unregister(path: string, timeout: number | undefined): Promise<UnregisterResponse> {
    const abs = this.absolute(path);
    const { entry, state, status } = this.lookup(abs);
    if (state === 'starting') throw new ControlError(409, `database ${abs} is starting; unregister it once it runs`);
    let txid = status?.localTXID ?? 0;
    try {
      if (state === 'replicating') txid = (await this.remove(abs, timeout)).localTXID;
    } finally {
      this.entries.delete(abs);
      if (entry?.client) await this.options.release(entry.client);
    }
    this.options.logger.info('database unregistered', { db: abs, txid });
    return { status: 'unregistered', path: abs, txid };
  }

  /** Resolves once no database is being added or removed by a command (whatever their outcome). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Tracks `work` until it ends, for `settled()`. */
  private track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    void work.then(
      () => this.pending.delete(work),
      () => this.pending.delete(work),
    );
    return work;
  }

  private async add(spec: StoreDatabase): Promise<void> {
    this.starting.add(spec.path);
    try {
      await this.track(this.options.store.add(spec));
    } catch (err) {
      throw new ControlError(500, `cannot start ${spec.path}: ${(err as Error).message}`);
    } finally {
      this.starting.delete(spec.path);
    }
  }

  /** Removes a database from the store after its final sync; resolves with its last status. */
  private async remove(path: string, timeout: number | undefined): Promise<SyncStatus> {
    try {
      return await this.track(this.options.store.remove(path, { timeout: timeout ?? DEFAULT_TIMEOUT }));
    } catch (err) {
      if (err instanceof FinalSyncError) {
        // It left the store all the same: it is stopped now.
        this.markStopped(path, err.databases[0]);
        throw new ControlError(500, `${path} is released, but its final sync did not complete: ${err.message}`);
      }
      throw new ControlError(409, (err as Error).message);
    }
  }

  /** Keeps a database that left the store as stopped (one another part of `replicate` added too). */
  private markStopped(path: string, status: SyncStatus | undefined): void {
    const entry = this.entries.get(path) ?? { replica: 'unknown', source: 'other' as const };
    entry.stopped = status;
    this.entries.set(path, entry);
  }

  /** The database by path: its entry, state and status; "not found" lists the known ones. */
  private lookup(path: string): { entry: Entry | undefined; state: DatabaseState; status: SyncStatus | undefined } {
    const abs = this.absolute(path);
    const entry = this.entries.get(abs);
    const status = this.statusOf(abs);
    if (status) return { entry, state: 'replicating', status };
    if (entry) return { entry, state: this.starting.has(abs) ? 'starting' : 'stopped', status: entry.stopped };
    const known = this.knownPaths();
    throw new ControlError(404, `database ${abs} is not replicated by this litestream replicate; known databases: ${known.length > 0 ? known.join(', ') : '(none)'}`, known);
  }

  private knownPaths(): string[] {
    const paths = this.options.store.paths();
    for (const path of this.entries.keys()) if (!paths.includes(path)) paths.push(path);
    return paths;
  }

  private statuses(): Map<string, SyncStatus> {
    return new Map(this.options.store.syncStatus().map((s) => [s.path, s]));
  }

  private statusOf(path: string): SyncStatus | undefined {
    return this.options.store.syncStatus().find((s) => s.path === path);
  }

  private absolute(path: string): string {
    return resolve(path);
  }
}

/** Waits for `work` at most `ms`; past that, a 504 with `message()` (the work goes on). */
async function bounded<T>(work: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ControlError(504, message())), ms);
  });
  // The work's own failure after the deadline must not go unhandled.
  work.catch(() => {});
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}
