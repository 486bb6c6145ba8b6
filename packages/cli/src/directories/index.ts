/**
 * Directory replication (`dbs[].dir` with `pattern`, `recursive`, `watch`): finding the
 * databases of a directory, deriving each one's replica and metadata paths, and keeping the
 * set replicated in step with the directory while `replicate` runs.
 */
import { basename, sep } from 'node:path';
import type { BackendRegistry, Logger } from '@litestream-ts/core';
import type { DatabaseConfig, DirectoryConfig, LitestreamConfig } from '../config/types.ts';
import { classifyFile } from './classify.ts';
import { directoryDatabase, relativeToDirectory } from './directory-database.ts';
import { DirectoryReplicator, type DirectoryHost } from './directory-replicator.ts';
import { Limiter } from './limiter.ts';
import { compileNamePattern } from './name-pattern.ts';
import { scanDirectory } from './scan.ts';

export { DirectoryReplicator, type DirectoryHost, type DirectoryReplicatorOptions } from './directory-replicator.ts';
export { directoryDatabase, relativeToDirectory } from './directory-database.ts';
export { childReplicaSettings, appendToURL } from './child-replica.ts';
export { compileNamePattern, NamePatternError } from './name-pattern.ts';
export { Limiter } from './limiter.ts';

/** Databases added and first synced at once, across all directory entries. */
export const START_CONCURRENCY = 8;

/** The directory entries of a running `replicate`. */
export interface RunningDirectories {
  /** Resolves once every database found so far has been added (or failed to be). */
  settled(): Promise<void>;
  /** Stops watching; waits for additions under way. The databases stay in the store. */
  close(): Promise<void>;
}

/**
 * Starts a `DirectoryReplicator` for each `dir` entry: each directory is walked and its
 * databases queued before this resolves (they are added in the background, a few at a time).
 * An entry without `watch` that finds no database to replicate is an error, as in Litestream.
 */
export async function startDirectories(
  config: LitestreamConfig,
  options: { registry: BackendRegistry; host: DirectoryHost; logger: Logger; concurrency?: number },
): Promise<RunningDirectories> {
  const owners = new Map<string, string>(config.dbs.map((d) => [d.path, 'its own "path" entry']));
  const limiter = new Limiter(options.concurrency ?? START_CONCURRENCY);
  const replicators: DirectoryReplicator[] = [];
  const closeAll = () => Promise.all(replicators.map((r) => r.close())).then(() => {});
  try {
    for (const entry of config.dirs) {
      const replicator = new DirectoryReplicator(entry, { registry: options.registry, host: options.host, logger: options.logger, limiter, owners });
      replicators.push(replicator);
      let queued: number;
      try {
        queued = await replicator.start();
      } catch (err) {
        throw new Error(`${entry.entry}: cannot read directory ${entry.dir}: ${(err as Error).message}`, { cause: err });
      }
      if (queued === 0 && !entry.watch) {
        throw new Error(
          `${entry.entry}: no SQLite database in WAL mode matches ${JSON.stringify(entry.pattern)} in ${entry.dir}${entry.recursive ? ' or below it' : ''}; ` +
            'check "dir", "pattern" and "recursive", or set "watch: true" to start with none',
        );
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return {
    settled: async () => {
      await Promise.all(replicators.map((r) => r.settled()));
    },
    close: closeAll,
  };
}

/**
 * The databases the `dir` entries hold now, as `replicate` would find them (SQLite, WAL mode,
 * first entry wins), for `databases` and `status`. Files left out are not reported.
 */
export async function findDirectoryDatabases(config: LitestreamConfig, registry: BackendRegistry): Promise<DatabaseConfig[]> {
  const owned = new Set(config.dbs.map((d) => d.path));
  const found: DatabaseConfig[] = [];
  for (const entry of config.dirs) {
    const matches = compileNamePattern(entry.pattern);
    const skipDirectory = (path: string) => [entry.metaDir, entry.metaPath].some((root) => root !== undefined && (path === root || path.startsWith(`${root}${sep}`)));
    const scan = await scanDirectory(entry.dir, { recursive: entry.recursive, matches, skipDirectory }).catch(() => ({ files: [] }));
    for (const file of scan.files) {
      if (owned.has(file.path)) continue;
      const kind = await classifyFile(file.path).catch(() => undefined);
      if (kind?.kind !== 'database') continue;
      owned.add(file.path);
      found.push(directoryDatabase(registry, entry, file.path));
    }
  }
  return found;
}

/**
 * The config of a database that a `dir` entry would replicate at `path` (which need not exist:
 * `restore` recreates it), or undefined when no entry covers it.
 */
export function directoryDatabaseAt(config: LitestreamConfig, registry: BackendRegistry, path: string): DatabaseConfig | undefined {
  const entry = config.dirs.find((d) => covers(d, path));
  return entry && directoryDatabase(registry, entry, path);
}

function covers(entry: DirectoryConfig, path: string): boolean {
  const rel = relativeToDirectory(entry.dir, path);
  if (rel === undefined || (!entry.recursive && rel.includes('/'))) return false;
  if (rel.split('/').slice(0, -1).some((part) => part.startsWith('.'))) return false;
  return compileNamePattern(entry.pattern)(basename(path));
}
export { storeHost, type StoreHost } from './store-host.ts';
