import { COMMON_REPLICA_KEYS, UsageError, redactURL, type BackendInfo, type BackendRegistry } from '@litestream-ts/core';
import type { Node } from 'yaml';
import { backendKeys, explainBackendKey, readBackendSetting } from './backend-settings.ts';
import type { ConfigSource } from './config-source.ts';
import { CONFIG_DEFAULTS } from './defaults.ts';
import { REPLICA_ENGINE_KEYS, REPLICA_UNSUPPORTED } from './known-keys.ts';
import { checkLocationVariables, checkReplicaSettings } from './replica-checks.ts';
import type { ReplicaConfig } from './types.ts';
import { readBoolean, readCount, readDuration, readLocation, readText } from './values.ts';
import { checkKeys, readMapping, type Entry, type Mapping } from './yaml-nodes.ts';

/** Replica settings given once at the top level for every replica (Litestream's global section). */
export interface ReplicaDefaults {
  readonly syncInterval?: number | undefined;
  readonly validationInterval?: number | undefined;
  readonly connectTimeout?: number | undefined;
  readonly requestTimeout?: number | undefined;
  /** `max-sync-ltx-files` (0: no limit). */
  readonly maxSyncLtxFiles?: number | undefined;
  /** Backend keys such as `access-key-id`, as they will be passed to `fromConfig`. */
  readonly settings: ReadonlyMap<string, unknown>;
  /** Where each of `settings` is written at the top level, for messages. */
  readonly entries?: ReadonlyMap<string, Entry>;
}

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * Reads one replica entry: finds its backend (from `url`, `type`, or `file` for a bare
 * `path`), checks its keys against that backend's, and merges in the top-level settings the
 * entry leaves unset.
 */
export function readReplica(source: ConfigSource, node: Node | null, path: string, registry: BackendRegistry, defaults: ReplicaDefaults): ReplicaConfig {
  const mapping = readMapping(source, node, path);
  // Before the backend is chosen: an empty url would otherwise read as "no url".
  checkLocationVariables(source, mapping);
  for (const key of ['url', 'path']) {
    const entry = mapping.entries.get(key);
    if (entry) readLocation(source, entry);
  }
  const plugin = findBackend(source, mapping, registry);
  const own = backendKeys(plugin);
  checkKeys(source, mapping, {
    known: [...COMMON_REPLICA_KEYS, ...REPLICA_ENGINE_KEYS, ...own],
    unsupported: REPLICA_UNSUPPORTED,
    explainUnknown: (key) => explainBackendKey(key, registry, plugin),
    listKnown: true,
  });
  const get = (key: string): Entry | undefined => mapping.entries.get(key);
  const settings: Record<string, unknown> = { type: plugin.type };
  for (const key of ['url', 'path']) {
    const entry = get(key);
    const text = entry && readText(source, entry);
    if (text !== undefined && text !== '') settings[key] = text;
  }
  for (const key of own) {
    const entry = get(key);
    const value = entry && readBackendSetting(source, entry);
    if (value !== undefined) settings[key] = value;
  }
  const inherited = new Map<string, Entry>();
  for (const [key, value] of defaults.settings) {
    // As in Litestream, an entry's empty value counts as unset and takes the shared one.
    if (own.includes(key) && (settings[key] === undefined || settings[key] === '')) {
      settings[key] = value;
      const entry = defaults.entries?.get(key);
      if (entry) inherited.set(key, entry);
    }
  }
  checkLocationVariables(source, mapping, inherited);
  checkReplicaSettings(source, mapping, inherited, registry, settings);
  const syncEntry = get('sync-interval');
  const validationEntry = get('validation-interval');
  const validationInterval = (validationEntry && readDuration(source, validationEntry, 'non-negative')) ?? defaults.validationInterval;
  // Storage timeouts belong to every backend: the registry hands them to the client (ms).
  const timeouts: Record<string, number> = {};
  for (const [key, fallback] of [['connect-timeout', defaults.connectTimeout], ['request-timeout', defaults.requestTimeout]] as const) {
    const entry = get(key);
    const value = (entry && readDuration(source, entry, 'non-negative')) ?? fallback;
    if (value !== undefined) timeouts[key] = settings[key] = value;
  }
  const maxSyncEntry = get('max-sync-ltx-files');
  const maxSyncLtxFiles = (maxSyncEntry && readCount(source, maxSyncEntry)) ?? defaults.maxSyncLtxFiles;
  checkAutoRecover(source, get('auto-recover'));
  const nameEntry = get('name');
  const name = nameEntry && readText(source, nameEntry);
  const url = settings.url as string | undefined;
  return {
    type: plugin.type,
    ...(url !== undefined ? { url } : {}),
    ...(name ? { name } : {}),
    syncInterval: (syncEntry && readDuration(source, syncEntry, 'non-negative')) ?? defaults.syncInterval ?? CONFIG_DEFAULTS.syncInterval,
    ...(validationInterval !== undefined ? { validationInterval } : {}),
    ...(maxSyncLtxFiles !== undefined ? { maxSyncLtxFiles } : {}),
    ...(timeouts['connect-timeout'] !== undefined ? { connectTimeout: timeouts['connect-timeout'] } : {}),
    ...(timeouts['request-timeout'] !== undefined ? { requestTimeout: timeouts['request-timeout'] } : {}),
    settings,
  };
}

/**
 * `auto-recover`: Litestream resets local state after an LTX error only when it is true. Here a
 * broken chain is always repaired (a full image of the database is uploaded, which loses
 * nothing), so true is what happens anyway and false cannot be honoured.
 */
export function checkAutoRecover(source: ConfigSource, entry: Entry | undefined): void {
  if (entry && readBoolean(source, entry) === false) {
    throw source.error(
      entry.value,
      entry.path,
      'false is not supported: litestream-ts always recovers from a broken or missing LTX file by uploading a full image of the database (nothing committed is lost); remove the key or set it to true',
    );
  }
}

function findBackend(source: ConfigSource, mapping: Mapping, registry: BackendRegistry): BackendInfo {
  const urlEntry = mapping.entries.get('url');
  const typeEntry = mapping.entries.get('type');
  const pathEntry = mapping.entries.get('path');
  const url = urlEntry && readText(source, urlEntry);
  const type = typeEntry && readText(source, typeEntry);
  const path = pathEntry && readText(source, pathEntry);
  if (path && HAS_SCHEME.test(path)) {
    throw source.error(pathEntry!.value, pathEntry!.path, `${JSON.stringify(redactURL(path))} is a URL; put it under "url" instead of "path"`);
  }
  if (url) {
    const plugin = attempt(source, urlEntry!, () => registry.resolve(url).plugin);
    if (type && type !== plugin.type) {
      throw source.error(typeEntry!.value, typeEntry!.path, `type "${type}" does not match the URL, which the ${plugin.type} backend serves; remove "type" or fix the URL`);
    }
    return plugin;
  }
  if (type) return attempt(source, typeEntry!, () => registry.forType(type));
  // Litestream takes an entry with neither a URL nor a type as a local directory.
  if (path) return attempt(source, pathEntry!, () => registry.forType('file'));
  throw source.error(
    mapping.node,
    mapping.path,
    'the replica needs a "url" (for example s3://bucket/path or file:///var/backups/app), or a "type" with that backend\'s settings, or a "path" to a local directory',
  );
}

/** Runs a registry lookup, turning its `UsageError` (which lists the installed backends) into a located `ConfigError`. */
function attempt<T>(source: ConfigSource, entry: Entry, lookup: () => T): T {
  try {
    return lookup();
  } catch (cause) {
    if (cause instanceof UsageError) throw source.error(entry.value, entry.path, cause.message);
    throw cause;
  }
}
