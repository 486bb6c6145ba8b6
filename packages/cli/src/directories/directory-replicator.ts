import { watch, type FSWatcher, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, sep } from 'node:path';
import type { BackendRegistry, Logger } from '@litestream-ts/core';
import type { DatabaseConfig, DirectoryConfig } from '../config/types.ts';
import { classifyFile, type FileKind } from './classify.ts';
import { directoryDatabase } from './directory-database.ts';
import type { Limiter } from './limiter.ts';
import { compileNamePattern } from './name-pattern.ts';
import { scanDirectory } from './scan.ts';

/** What a directory replicator asks of the process that replicates (`replicate` wraps its `Store`). */
export interface DirectoryHost {
  /** Starts replicating a database (`Store.add`); rejects when it cannot. */
  add(db: DatabaseConfig): Promise<void>;
  /** Resolves once the first sync of a just-added database is over, whatever its outcome. */
  firstSync(path: string): Promise<void>;
  /** Stops replicating a database whose file is gone, and releases it (`Store.remove`). */
  release(path: string): Promise<void>;
}

/** Settings of a `DirectoryReplicator`. */
export interface DirectoryReplicatorOptions {
  readonly registry: BackendRegistry;
  readonly host: DirectoryHost;
  readonly logger: Logger;
  /** Bounds the databases being added and first synced at once, across every directory entry. */
  readonly limiter: Limiter;
  /**
   * Who replicates each database file: the config's own `path` entries and every directory
   * entry record their files here, and the first to claim a file keeps it.
   */
  readonly owners: Map<string, string>;
  /** Rescan period while `fs.watch` works, ms (default 30 s): a safety net for missed events. */
  readonly rescanInterval?: number;
  /** Rescan period where a directory cannot be watched, ms (default 1 s). */
  readonly pollInterval?: number;
  /** Events are gathered this long before they are handled, ms (default 100). */
  readonly debounce?: number;
  /** Longest wait for a new database's first sync before the next one starts, ms (default 10 s). */
  readonly firstSyncWait?: number;
}

/** SQLite's own files beside a database: never databases, and busy with writes. */
const SIDE_FILE = /-(wal|shm|journal)$/;
/** Retry a database that could not be added no sooner than this, ms. */
const RETRY_AFTER = 10_000;

/**
 * Replicates the databases of one `dir` entry. `start()` walks the directory and queues every
 * SQLite database in WAL mode whose name matches the pattern; they are added to the store a
 * few at a time (the shared `Limiter`), each waiting for its first sync, so a thousand
 * databases do not all write their first snapshot at once. Files that are not replicated are
 * logged once each, with the reason (not a SQLite database, not in WAL mode), and again only
 * when the reason changes.
 *
 * With `watch`, each directory walked is watched (`fs.watch`; one watch per directory, hidden
 * directories left out), and the tree is walked again every `rescanInterval` as a safety net
 * (every `pollInterval` where watching fails). A new database is added once its header says
 * WAL mode; a removed one is released; a database replaced by another file is released and
 * the new file considered. Events on files already replicated or on unrelated files leave the
 * replicated databases alone.
 */
export class DirectoryReplicator {
  private readonly entry: DirectoryConfig;
  private readonly options: DirectoryReplicatorOptions;
  private readonly logger: Logger;
  private readonly matches: (name: string) => boolean;
  /** Databases this entry replicates, by path, with the file they were added as. */
  private readonly tracked = new Map<string, { readonly dev: number; readonly ino: number }>();
  /** Files looked at and not replicated: their `stat` then, so an unchanged file is not read again. */
  private readonly looked = new Map<string, string>();
  /** The last thing logged about a file not replicated, so it is logged once. */
  private readonly notices = new Map<string, string>();
  /** Files whose add failed: not tried again before this time. */
  private readonly retryAt = new Map<string, number>();
  /** The work queued for each path, in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Set<string>();
  private debounceTimer: NodeJS.Timeout | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private scanAgain = false;
  private watchFailed = false;
  private rootMissing = false;
  private closed = false;
  /** Aborted by `close()`: waits for first syncs end at once. */
  private readonly closing = new AbortController();

  constructor(entry: DirectoryConfig, options: DirectoryReplicatorOptions) {
    this.entry = entry;
    this.options = options;
    this.logger = options.logger.child({ dir: entry.dir });
    this.matches = compileNamePattern(entry.pattern);
  }

  /** The databases this entry replicates now. */
  paths(): string[] {
    return [...this.tracked.keys()];
  }

  /**
   * Walks the directory, looks at every matching file, and queues the databases; resolves with
   * how many were queued (they are added in the background: see `settled()`). Rejects when the
   * directory cannot be read. With `watch`, starts watching.
   */
  async start(): Promise<number> {
    const found = await scanDirectory(this.entry.dir, this.scanOptions(), (path, err) => this.noticeOnce(path, `cannot read directory: ${err.message}`));
    let queued = 0;
    for (const file of found.files) {
      if (file.stats && (await this.considerQueued(file.path, file.stats))) queued += 1;
    }
    if (this.entry.watch) {
      for (const dir of found.directories) this.watchDirectory(dir);
      this.scheduleRescans();
      this.logger.info('watching directory for databases', { pattern: this.entry.pattern, recursive: this.entry.recursive });
    }
    return queued;
  }

  /** Resolves once everything queued so far (adds, first syncs, releases) is done. */
  async settled(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  /** Stops watching and rescanning; waits for what is under way. The databases stay in the store. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.debounceTimer);
    clearInterval(this.rescanTimer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.scanning?.catch(() => {});
    await this.settled();
  }

  private scanOptions() {
    const { metaDir, metaPath } = this.entry;
    const inside = (root: string | undefined, path: string) => root !== undefined && (path === root || path.startsWith(`${root}${sep}`));
    return {
      recursive: this.entry.recursive,
      matches: this.matches,
      skipDirectory: (path: string) => inside(metaDir, path) || inside(metaPath, path),
    };
  }

  /** Looks at a file found by a walk, and queues it when it is a database to replicate. */
  private async considerQueued(path: string, stats: Stats): Promise<boolean> {
    if (this.chains.has(path)) return false;
    const db = await this.consider(path, stats);
    if (db) this.enqueue(path, () => this.add(db, stats));
    return db !== undefined;
  }

  /**
   * Decides about a file: its config when it is a database to replicate (the file is then
   * claimed in `owners`), else undefined (and why is logged once). Never opens a file this
   * process replicates.
   */
  private async consider(path: string, stats: Stats): Promise<DatabaseConfig | undefined> {
    if (this.tracked.has(path)) return undefined;
    const owner = this.options.owners.get(path);
    if (owner !== undefined && owner !== this.entry.entry) {
      this.noticeOnce(path, `also matched by ${this.entry.entry}, but ${owner} replicates it`, 'info');
      return undefined;
    }
    const signature = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}`;
    if (this.looked.get(path) === signature) return undefined;
    if ((this.retryAt.get(path) ?? 0) > Date.now()) return undefined;
    let kind: FileKind;
    try {
      kind = await classifyFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      kind = { kind: 'skipped', reason: `cannot be read (${code ?? (err as Error).message})` };
    }
    if (kind.kind !== 'database') {
      this.looked.set(path, signature);
      // A file being created is looked at again when it changes; without watch it never will.
      if (kind.kind === 'skipped' || !this.entry.watch) this.noticeOnce(path, kind.reason);
      else this.logger.debug('not a database yet', { path, reason: kind.reason });
      return undefined;
    }
    this.looked.delete(path);
    let db: DatabaseConfig;
    try {
      db = directoryDatabase(this.options.registry, this.entry, path);
    } catch (err) {
      this.noticeOnce(path, (err as Error).message);
      return undefined;
    }
    this.options.owners.set(path, this.entry.entry);
    return db;
  }

  /** Adds a database in its turn, then waits (a bounded time) for its first sync. */
  private async add(db: DatabaseConfig, stats: Stats): Promise<void> {
    await this.options.limiter.run(async () => {
      if (this.closed) {
        this.options.owners.delete(db.path);
        return;
      }
      try {
        await this.options.host.add(db);
      } catch (err) {
        this.options.owners.delete(db.path);
        // Deleted meanwhile: nothing to say.
        if (!(await exists(db.path))) return;
        this.retryAt.set(db.path, Date.now() + RETRY_AFTER);
        this.noticeOnce(db.path, `cannot replicate: ${(err as Error).message}`, 'error');
        return;
      }
      this.tracked.set(db.path, { dev: stats.dev, ino: stats.ino });
      this.notices.delete(db.path);
      this.retryAt.delete(db.path);
      this.logger.info('added database to replication', { db: db.path });
      await firstOf(this.options.host.firstSync(db.path), this.options.firstSyncWait ?? 10_000, this.closing.signal);
    });
  }

  /** Brings one path up to date with its file: releases a database gone or replaced, considers a new file. */
  private async reconcile(path: string): Promise<void> {
    if (this.closed) return;
    const stats = await stat(path).catch(() => undefined);
    const current = this.tracked.get(path);
    if (current) {
      if (stats?.isFile() && stats.dev === current.dev && stats.ino === current.ino) return;
      await this.release(path, stats ? 'the file was replaced' : 'the file was removed');
    }
    if (!stats?.isFile()) {
      this.looked.delete(path);
      this.notices.delete(path);
      return;
    }
    if (!this.matches(basename(path))) return;
    const db = await this.consider(path, stats);
    if (db) await this.add(db, stats);
  }

  private async release(path: string, why: string): Promise<void> {
    this.tracked.delete(path);
    this.options.owners.delete(path);
    try {
      await this.options.host.release(path);
      this.logger.info('removed database from replication', { db: path, reason: why });
    } catch (err) {
      this.logger.warn('could not release database', { db: path, error: (err as Error).message });
    }
  }

  /** Runs `task` after whatever is queued for `path`. */
  private enqueue(path: string, task: () => Promise<void>): void {
    const previous = this.chains.get(path) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => this.logger.error('directory replication failed', { path, error: (err as Error).message }))
      .finally(() => {
        if (this.chains.get(path) === next) this.chains.delete(path);
      });
    this.chains.set(path, next);
  }

  private watchDirectory(dir: string): void {
    if (this.closed || this.watchers.has(dir)) return;
    try {
      const watcher = watch(dir, { persistent: false }, (type, name) => this.onEvent(dir, type, name));
      watcher.on('error', () => {
        watcher.close();
        if (this.watchers.get(dir) === watcher) this.watchers.delete(dir);
        this.queuePath(dir);
      });
      this.watchers.set(dir, watcher);
    } catch (err) {
      if (!this.watchFailed) {
        this.watchFailed = true;
        const every = this.options.pollInterval ?? 1000;
        this.logger.warn('cannot watch directory; scanning it instead', { path: dir, error: (err as Error).message, every: `${every}ms` });
        this.scheduleRescans();
      }
    }
  }

  private scheduleRescans(): void {
    clearInterval(this.rescanTimer);
    const every = this.watchFailed ? (this.options.pollInterval ?? 1000) : (this.options.rescanInterval ?? 30_000);
    this.rescanTimer = setInterval(() => void this.rescan(), every);
    this.rescanTimer.unref();
  }

  private onEvent(dir: string, type: string, name: string | Buffer | null): void {
    if (this.closed) return;
    if (name === null) {
      void this.rescan();
      return;
    }
    const file = String(name);
    const path = `${dir}${sep}${file}`;
    if (SIDE_FILE.test(file)) {
      // The WAL of a replicated database removed: the database may be going away.
      const db = path.slice(0, -4);
      if (type === 'rename' && file.endsWith('-wal') && this.tracked.has(db)) this.enqueue(db, () => this.reconcile(db));
      return;
    }
    // A replicated database matters only when it goes away or is replaced (a rename). That is
    // handled at once, not after the debounce: until it is released, its replication would
    // read a vanished WAL as a reason for a new snapshot.
    if (this.tracked.has(path)) {
      if (type === 'rename') this.enqueue(path, () => this.reconcile(path));
      return;
    }
    // Without recursion only matching names matter; with it, a rename may be a directory.
    if (this.matches(file) || (this.entry.recursive && type === 'rename') || this.watchers.has(path)) this.queuePath(path);
  }

  private queuePath(path: string): void {
    this.pending.add(path);
    this.debounceTimer ??= setTimeout(() => {
      this.debounceTimer = undefined;
      void this.flush();
    }, this.options.debounce ?? 100);
  }

  private async flush(): Promise<void> {
    const paths = [...this.pending];
    this.pending.clear();
    let rescan = false;
    for (const path of paths) {
      if (this.closed) return;
      if (this.watchers.has(path) && path !== this.entry.dir) {
        rescan = true;
        continue;
      }
      if (path === this.entry.dir) {
        rescan = true;
        continue;
      }
      const stats = await stat(path).catch(() => undefined);
      if (stats?.isDirectory()) rescan ||= this.entry.recursive;
      else if (this.tracked.has(path) || this.matches(basename(path))) this.enqueue(path, () => this.reconcile(path));
    }
    if (rescan) await this.rescan();
  }

  /** Walks the tree again: new databases and directories, databases and directories gone. */
  private rescan(): Promise<void> {
    if (this.scanning) {
      this.scanAgain = true;
      return this.scanning;
    }
    this.scanning = this.rescanOnce()
      .catch((err: unknown) => this.logger.error('directory scan failed', { error: (err as Error).message }))
      .finally(() => {
        this.scanning = undefined;
        if (this.scanAgain && !this.closed) {
          this.scanAgain = false;
          void this.rescan();
        }
      });
    return this.scanning;
  }

  private async rescanOnce(): Promise<void> {
    if (this.closed) return;
    let found;
    try {
      // A database already replicated is not stat-ed: a rename or removal of it is an event, and
      // a rescan needs only to see that it is still there. Idle cost stays one readdir per directory.
      const options = { ...this.scanOptions(), stat: (path: string) => !this.tracked.has(path) };
      found = await scanDirectory(this.entry.dir, options, (path, err) => this.noticeOnce(path, `cannot read directory: ${err.message}`));
    } catch (err) {
      if (!this.rootMissing) {
        this.rootMissing = true;
        this.logger.warn('cannot read directory; its databases are released until it is back', { error: (err as Error).message });
      }
      for (const path of this.tracked.keys()) this.enqueue(path, () => this.reconcile(path));
      for (const [dir, watcher] of this.watchers) {
        watcher.close();
        this.watchers.delete(dir);
      }
      return;
    }
    if (this.rootMissing) {
      this.rootMissing = false;
      this.logger.info('directory is back');
    }
    if (this.closed) return;
    const walked = new Set(found.directories);
    for (const dir of walked) this.watchDirectory(dir);
    for (const [dir, watcher] of this.watchers) {
      if (walked.has(dir)) continue;
      watcher.close();
      this.watchers.delete(dir);
    }
    const seen = new Set<string>();
    for (const file of found.files) {
      seen.add(file.path);
      const current = this.tracked.get(file.path);
      if (current && (!file.stats || (current.dev === file.stats.dev && current.ino === file.stats.ino))) continue;
      if (current) this.enqueue(file.path, () => this.reconcile(file.path));
      else if (file.stats) await this.considerQueued(file.path, file.stats);
    }
    for (const path of this.tracked.keys()) if (!seen.has(path)) this.enqueue(path, () => this.reconcile(path));
    for (const path of this.looked.keys()) {
      if (seen.has(path)) continue;
      this.looked.delete(path);
      this.notices.delete(path);
    }
  }

  private noticeOnce(path: string, message: string, level: 'info' | 'warn' | 'error' = 'warn'): void {
    if (this.notices.get(path) === message) return;
    this.notices.set(path, message);
    const text = level === 'error' ? 'cannot replicate database' : 'skipped file';
    this.logger[level](text, { path, reason: message });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Waits for `promise` (ignoring its outcome), at most `ms`, and not once `signal` is aborted. */
async function firstOf(promise: Promise<unknown>, ms: number, signal: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const bounded = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    onAbort = resolve;
    signal.addEventListener('abort', onAbort, { once: true });
  });
  await Promise.race([promise.catch(() => {}), bounded]);
  clearTimeout(timer);
  signal.removeEventListener('abort', onAbort!);
}
