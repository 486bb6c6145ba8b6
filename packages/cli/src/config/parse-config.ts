import type { BackendRegistry } from '@litestream-ts/core';
import { isMap, type Node } from 'yaml';
import { explainBackendKey, installedBackendKeys, readBackendSetting } from './backend-settings.ts';
import { openConfigSource, type ConfigSource } from './config-source.ts';
import { CONFIG_DEFAULTS } from './defaults.ts';
import { readDatabase, type DatabaseSnapshot } from './database-section.ts';
import { formatDuration } from '@litestream-ts/core';
import type { Environment } from './env-expansion.ts';
import { TOP_LEVEL_KEYS, TOP_LEVEL_UNSUPPORTED } from './known-keys.ts';
import { checkReplicaOverlap, type PlacedDatabase } from './replica-overlap.ts';
import { checkAutoRecover, type ReplicaDefaults } from './replica-section.ts';
import { readPlugins } from './plugins-section.ts';
import { readRetention, readAddr, readLevels, readLogging, readSnapshot, readValidation } from './top-level.ts';
import { readHeartbeat, readSocket } from './control-sections.ts';
import type { DatabaseConfig, DirectoryConfig, LitestreamConfig } from './types.ts';
import { checkDirectoryReplica } from './directory-section.ts';
import { readBoolean, readCount, readDuration, readText } from './values.ts';
import { checkKeys, isEmptyValue, readList, readMapping, type Entry, type Mapping } from './yaml-nodes.ts';

/** Options of `loadConfig` and `parseConfig`. */
export interface ConfigOptions {
  /** The installed backends: they decide which URL schemes, types and replica keys are valid. */
  readonly registry: BackendRegistry;
  /** Leave `$VAR` and `${VAR}` as written (Litestream's `-no-expand-env`). */
  readonly noExpandEnv?: boolean;
  /** Check that every database file exists (default true; `restore` passes false). */
  readonly requireDatabases?: boolean;
  /** Variables for expansion and `LOG_LEVEL` (default `process.env`). */
  readonly env?: Environment;
  /** Directory relative database paths are taken from (default the working directory, as in Litestream). */
  readonly cwd?: string;
}

/**
 * Reads a Litestream v0.5 config from text: expands environment variables, parses the YAML,
 * checks every key and value, and fills in the defaults. `file` names the text in messages.
 * Throws `ConfigError` (`FILE:LINE:COL: KEY.PATH: problem`) at the first problem.
 */
export function parseConfig(text: string, options: ConfigOptions & { readonly file: string }): LitestreamConfig {
  const env = options.env ?? process.env;
  const source = openConfigSource(text, options);
  const contents = source.document.contents;
  const root: Mapping | undefined = isEmptyValue(contents) ? undefined : readMapping(source, contents, '');
  const get = (key: string): Entry | undefined => root?.entries.get(key);
  const registry = options.registry;

  const sharedKeys = installedBackendKeys(registry);
  if (root) {
    checkKeys(source, root, {
      known: [...TOP_LEVEL_KEYS, ...sharedKeys],
      unsupported: TOP_LEVEL_UNSUPPORTED,
      explainUnknown: (key) => explainBackendKey(key, registry),
      // Litestream ignores unknown keys, so configs may park anchors under made-up keys;
      // we are strict, but leave `x-…` free for that purpose.
      allowExtensions: true,
    });
  }

  // Loaded before this parse (see configPlugins); checked here too, for parseConfig alone.
  readPlugins(source, get('plugins'));
  const replicaDefaults = readReplicaDefaults(source, root, sharedKeys);
  const snapshot = readSnapshot(source, get('snapshot'));
  const dbs: DatabaseConfig[] = [];
  const dirs: DirectoryConfig[] = [];
  const dbSnapshots: DatabaseSnapshot[] = [];
  const placed: PlacedDatabase[] = [];
  const dbsEntry = get('dbs');
  if (dbsEntry && !isEmptyValue(dbsEntry.value)) {
    const seen = new Map<string, string>();
    for (const item of readList(source, dbsEntry)) {
      const { db, directory, snapshot: dbSnapshot } = readDatabase(source, item.node, item.path, {
        registry,
        replicaDefaults,
        cwd: options.cwd ?? process.cwd(),
        requireDatabases: options.requireDatabases ?? true,
      });
      if (directory) {
        const key = `${directory.dir}\0${directory.pattern}`;
        const earlier = seen.get(key);
        if (earlier) throw source.error(item.node, `${item.path}.dir`, `directory ${JSON.stringify(directory.dir)} with pattern ${JSON.stringify(directory.pattern)} is already listed as ${earlier}; list it once`);
        seen.set(key, item.path);
        checkDirectoryReplica(source, registry, directory, item.node, item.path);
        dirs.push(directory);
        dbSnapshots.push(dbSnapshot);
        placed.push({ ...placeReplica(source, { path: directory.dir, replica: directory.replica }, item.node, item.path), directory: true });
        continue;
      }
      if (!db) continue;
      const earlier = seen.get(db.path);
      if (earlier) throw source.error(item.node, `${item.path}.path`, `${JSON.stringify(db.path)} is already listed as ${earlier}; list each database once`);
      seen.set(db.path, item.path);
      dbs.push(db);
      dbSnapshots.push(dbSnapshot);
      placed.push(placeReplica(source, db, item.node, item.path));
    }
    checkReplicaOverlap(source, registry, placed);
  }
  const retention = readRetention(source, get('retention'));
  checkVerifyCompaction(source, get('verify-compaction'));

  const duration = (key: string, bound: 'positive' | 'non-negative'): number | undefined => {
    const entry = get(key);
    return entry && readDuration(source, entry, bound);
  };
  const execEntry = get('exec');
  const exec = execEntry && readText(source, execEntry);
  const addr = readAddr(source, get('addr'));
  const mcpAddr = readAddr(source, get('mcp-addr'));
  const logging = readLogging(source, get('logging'), env.LOG_LEVEL);
  const socket = readSocket(source, get('socket'), options.cwd ?? process.cwd());
  const heartbeat = readHeartbeat(source, get('heartbeat-url'), get('heartbeat-interval'));
  return {
    dbs,
    dirs,
    snapshot: {
      interval: snapshot.interval ?? agreedSnapshotValue(source, dbSnapshots, 'interval') ?? CONFIG_DEFAULTS.snapshotInterval,
      retention: snapshot.retention ?? agreedSnapshotValue(source, dbSnapshots, 'retention') ?? CONFIG_DEFAULTS.snapshotRetention,
    },
    levels: readLevels(source, get('levels')),
    l0Retention: duration('l0-retention', 'non-negative') ?? CONFIG_DEFAULTS.l0Retention,
    ...optional('l0RetentionCheckInterval', duration('l0-retention-check-interval', 'positive')),
    retention,
    logging,
    ...(addr ? { addr } : {}),
    ...(mcpAddr ? { mcpAddr } : {}),
    shutdownSyncTimeout: duration('shutdown-sync-timeout', 'non-negative') ?? CONFIG_DEFAULTS.shutdownSyncTimeout,
    shutdownSyncInterval: duration('shutdown-sync-interval', 'positive') ?? CONFIG_DEFAULTS.shutdownSyncInterval,
    ...(exec ? { exec } : {}),
    ...(socket ? { socket } : {}),
    ...(heartbeat ? { heartbeat } : {}),
    warnings: source.warnings,
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/**
 * `verify-compaction`: Litestream's opt-in check that a compacted level has no TXID gap or
 * overlap. Compaction here always checks the chain it merges and warns about holes, so true
 * is built in; false cannot turn those checks off, which a warning says.
 */
function checkVerifyCompaction(source: ConfigSource, entry: Entry | undefined): void {
  if (entry && readBoolean(source, entry) === false) {
    source.warn(entry.value, entry.path, 'compaction always checks the TXID chain it merges and warns about gaps; false does not turn that off');
  }
}

/** Where a database's replica is written in the file, for messages about it. */
function placeReplica(source: ConfigSource, db: PlacedDatabase['db'], node: Node | null, path: string): PlacedDatabase {
  const entries = readMapping(source, node, path).entries;
  const replica = entries.get('replica') ?? entries.get('replicas');
  const replicaPath = replica?.path ?? `${path}.replica`;
  const target = replica && isMap(replica.value) ? readMapping(source, replica.value, replica.path) : undefined;
  const location = target && (target.entries.get('url') ?? target.entries.get('path') ?? target.entries.get('bucket'));
  return { db, replicaPath: location?.path ?? replicaPath, node: location?.value ?? replica?.keyNode ?? node };
}

/** The top-level replica settings every replica inherits unless it sets its own. */
function readReplicaDefaults(source: ConfigSource, root: Mapping | undefined, sharedKeys: readonly string[]): ReplicaDefaults {
  const settings = new Map<string, unknown>();
  const entries = new Map<string, Entry>();
  for (const key of sharedKeys) {
    const entry = root?.entries.get(key);
    const value = entry && readBackendSetting(source, entry);
    if (value !== undefined && value !== '') {
      settings.set(key, value);
      entries.set(key, entry!);
    }
  }
  const sync = root?.entries.get('sync-interval');
  const validation = root?.entries.get('validation-interval');
  const validationSection = readValidation(source, root?.entries.get('validation'));
  if (validation && !isEmptyValue(validation.value) && validationSection) {
    throw source.error(validationSection.entry.value, validationSection.entry.path, 'validation-interval is set too; keep one of them (both set how often every replica is validated)');
  }
  const maxSync = root?.entries.get('max-sync-ltx-files');
  checkAutoRecover(source, root?.entries.get('auto-recover'));
  const connect = root?.entries.get('connect-timeout');
  const request = root?.entries.get('request-timeout');
  return {
    syncInterval: sync && readDuration(source, sync, 'non-negative'),
    validationInterval: (validation && readDuration(source, validation, 'non-negative')) ?? validationSection?.interval,
    maxSyncLtxFiles: maxSync && readCount(source, maxSync),
    connectTimeout: connect && readDuration(source, connect, 'non-negative'),
    requestTimeout: request && readDuration(source, request, 'non-negative'),
    settings,
    entries,
  };
}

/**
 * Litestream lets a database entry carry `snapshot` settings, but schedules snapshots for
 * the whole process: a value given by some entries applies when the top level sets none,
 * and entries that disagree are an error.
 */
function agreedSnapshotValue(source: ConfigSource, snapshots: readonly DatabaseSnapshot[], key: 'interval' | 'retention'): number | undefined {
  let first: { value: number; entry: Entry } | undefined;
  for (const snapshot of snapshots) {
    const current = snapshot[key];
    if (!current) continue;
    if (first && first.value !== current.value) {
      throw source.error(
        current.entry.value,
        current.entry.path,
        `conflicts with ${first.entry.path} (${formatDuration(current.value)} here, ${formatDuration(first.value)} there); snapshots are scheduled for all databases at once, so set snapshot.${key} at the top level`,
      );
    }
    first ??= current;
  }
  return first?.value;
}
