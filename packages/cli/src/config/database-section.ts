import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { BackendRegistry } from '@litestream-ts/core';
import type { Node } from 'yaml';
import type { ConfigSource } from './config-source.ts';
import { CONFIG_DEFAULTS } from './defaults.ts';
import { DATABASE_KEYS, DATABASE_UNSUPPORTED, LEASE_KEYS, SNAPSHOT_KEYS } from './known-keys.ts';
import { readReplica, type ReplicaDefaults } from './replica-section.ts';
import { checkDirectory, readDirectoryKeys } from './directory-section.ts';
import type { DatabaseConfig, DirectoryConfig } from './types.ts';
import { readBoolean, readByteSize, readCount, readDuration, readLocation } from './values.ts';
import { checkKeys, isEmptyValue, readList, readMapping, type Entry } from './yaml-nodes.ts';

/** What reading a database entry needs besides the entry. */
export interface DatabaseContext {
  readonly registry: BackendRegistry;
  readonly replicaDefaults: ReplicaDefaults;
  /** Directory relative paths are taken from (the working directory, as in Litestream). */
  readonly cwd: string;
  /** Check that the database file exists (not wanted by `restore`, which creates it). */
  readonly requireDatabases: boolean;
}

/** A database entry's own `snapshot` settings, which Litestream applies to the whole config. */
export interface DatabaseSnapshot {
  readonly interval?: { readonly value: number; readonly entry: Entry };
  readonly retention?: { readonly value: number; readonly entry: Entry };
}

/** Reads one `dbs[]` entry: one database (`path`), or a directory of databases (`dir`). */
export function readDatabase(
  source: ConfigSource,
  node: Node | null,
  path: string,
  context: DatabaseContext,
): { db?: DatabaseConfig; directory?: DirectoryConfig; snapshot: DatabaseSnapshot } {
  const mapping = readMapping(source, node, path);
  checkKeys(source, mapping, { known: DATABASE_KEYS, unsupported: DATABASE_UNSUPPORTED, listKnown: true });
  const get = (key: string): Entry | undefined => mapping.entries.get(key);

  const pathEntry = get('path');
  const directory = readDirectoryKeys(source, mapping, path, context.cwd);
  const written = pathEntry && readLocation(source, pathEntry);
  if (!written && !directory) {
    throw source.error(pathEntry?.value ?? mapping.node, pathEntry?.path ?? path, 'missing "path": the database file to replicate (or "dir" and "pattern" for a directory of databases)');
  }

  const metaEntry = get('meta-path');
  const metaWritten = metaEntry && readLocation(source, metaEntry);
  const duration = (key: string): number | undefined => {
    const entry = get(key);
    return entry && readDuration(source, entry, 'non-negative');
  };
  const count = (key: string): number | undefined => {
    const entry = get(key);
    return entry && readCount(source, entry);
  };
  const restoreEntry = get('restore-if-db-not-exists');
  const maxWalEntry = get('max-sync-wal-bytes');
  const maxSyncWalBytes = maxWalEntry && readByteSize(source, maxWalEntry);
  const settings = {
    ...(metaWritten ? { metaPath: absolutePath(metaWritten, context.cwd) } : {}),
    monitorInterval: duration('monitor-interval') ?? CONFIG_DEFAULTS.monitorInterval,
    checkpointInterval: duration('checkpoint-interval') ?? CONFIG_DEFAULTS.checkpointInterval,
    busyTimeout: duration('busy-timeout') ?? CONFIG_DEFAULTS.busyTimeout,
    minCheckpointPageCount: count('min-checkpoint-page-count') ?? CONFIG_DEFAULTS.minCheckpointPageCount,
    truncatePageN: count('truncate-page-n') ?? CONFIG_DEFAULTS.truncatePageN,
    ...(maxSyncWalBytes !== undefined ? { maxSyncWalBytes } : {}),
    restoreIfDbNotExists: (restoreEntry && readBoolean(source, restoreEntry)) ?? false,
    ...readLease(source, get('lease')),
    replica: readDatabaseReplica(source, mapping.node, path, get('replica'), get('replicas'), context),
  };
  const snapshot = readDatabaseSnapshot(source, get('snapshot'));
  if (directory) {
    if (settings.restoreIfDbNotExists) {
      source.warn(restoreEntry!.keyNode, restoreEntry!.path, 'has no effect with "dir": only databases whose files exist are found; restore one with litestream restore -o PATH REPLICA_URL/RELATIVE_PATH');
    }
    if (context.requireDatabases) checkDirectory(source, get('dir')!, directory.dir, context.cwd);
    return { directory: { ...settings, ...directory, restoreIfDbNotExists: false, entry: path }, snapshot };
  }
  const dbPath = absolutePath(stripSQLitePrefix(written!), context.cwd);
  if (context.requireDatabases) checkDatabaseFile(source, pathEntry, dbPath, written!, context.cwd);
  return { db: { path: dbPath, ...settings }, snapshot };
}

/** Default lease length: long enough to ride out a slow storage request, short enough to fail over. */
const DEFAULT_LEASE_TTL = 30_000;

/** `lease:` (optionally with `ttl`), present means "hold a lease while replicating". */
function readLease(source: ConfigSource, entry: Entry | undefined): { lease?: { ttl: number } } {
  if (!entry) return {};
  if (isEmptyValue(entry.value)) return { lease: { ttl: DEFAULT_LEASE_TTL } };
  const mapping = readMapping(source, entry.value, entry.path, entry.keyNode);
  checkKeys(source, mapping, { known: LEASE_KEYS });
  const ttlEntry = mapping.entries.get('ttl');
  const ttl = (ttlEntry && readDuration(source, ttlEntry, 'positive')) ?? DEFAULT_LEASE_TTL;
  if (ttl < 1000 && ttlEntry) throw source.error(ttlEntry.value, ttlEntry.path, 'lease ttl must be at least 1s');
  return { lease: { ttl } };
}

/** `replica:` (one entry), or the deprecated `replicas:` list with exactly one entry. */
function readDatabaseReplica(source: ConfigSource, dbNode: Node, dbPath: string, single: Entry | undefined, list: Entry | undefined, context: DatabaseContext) {
  const hasSingle = single !== undefined && !isEmptyValue(single.value);
  const hasList = list !== undefined && !isEmptyValue(list.value);
  if (hasSingle && hasList) {
    throw source.error(list.keyNode, list.path, 'set either "replica" or the deprecated "replicas", not both');
  }
  if (hasSingle) return readReplica(source, single.value, single.path, context.registry, context.replicaDefaults);
  if (hasList) {
    const items = readList(source, list);
    if (items.length > 1) {
      throw source.error(
        items[1]!.node ?? list.keyNode,
        list.path,
        `lists ${items.length} replicas, but only one replica per database is supported (as in Litestream v0.5); keep one and write it under "replica:"`,
      );
    }
    const [item] = items;
    if (item) {
      source.warn(list.keyNode, list.path, '"replicas" is deprecated; write the single replica under "replica:" instead');
      return readReplica(source, item.node, item.path, context.registry, context.replicaDefaults);
    }
  }
  throw source.error(dbNode, dbPath, 'missing "replica": where to replicate this database (for example replica: {url: s3://bucket/path})');
}

function readDatabaseSnapshot(source: ConfigSource, entry: Entry | undefined): DatabaseSnapshot {
  if (!entry || isEmptyValue(entry.value)) return {};
  const mapping = readMapping(source, entry.value, entry.path);
  checkKeys(source, mapping, { known: SNAPSHOT_KEYS, listKnown: true });
  const result: { interval?: { value: number; entry: Entry }; retention?: { value: number; entry: Entry } } = {};
  for (const key of ['interval', 'retention'] as const) {
    const child = mapping.entries.get(key);
    const value = child && readDuration(source, child, 'positive');
    if (child && value !== undefined) result[key] = { value, entry: child };
  }
  return result;
}

function checkDatabaseFile(source: ConfigSource, entry: Entry | undefined, dbPath: string, written: string, cwd: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(dbPath).isFile();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const relative = isAbsolute(written) || written.startsWith('~') ? '' : ` (relative paths are taken from the working directory, ${cwd})`;
    const detail = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(cause)})`;
    throw source.error(entry?.value, entry?.path, `database file ${JSON.stringify(dbPath)} ${detail}${relative}`, { cause });
  }
  if (!isFile) throw source.error(entry?.value, entry?.path, `${JSON.stringify(dbPath)} is not a regular file; "path" names the database file itself`);
}

/** Litestream accepts SQLite connection strings (`sqlite:///data/app.db`) and keeps the file path. */
function stripSQLitePrefix(text: string): string {
  for (const prefix of ['sqlite3://', 'sqlite://']) {
    if (text.startsWith(prefix)) return text.slice(prefix.length);
  }
  return text;
}

/** `~` is the home directory; other relative paths are taken from `cwd`. */
export function absolutePath(text: string, cwd: string): string {
  if (text === '~') return homedir();
  if (text.startsWith('~/')) return join(homedir(), text.slice(2));
  return resolve(cwd, text);
}
