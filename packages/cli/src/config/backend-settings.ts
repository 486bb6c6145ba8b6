import { COMMON_REPLICA_KEYS, type BackendInfo, type BackendRegistry } from '@litestream-ts/core';
import { packagesOfKey } from './backend-key-packages.ts';
import type { ConfigSource } from './config-source.ts';
import { DURATION_SETTINGS, LITESTREAM_BACKEND_KEYS, SIZE_SETTINGS } from './known-keys.ts';
import { readByteSize, readDuration, readSetting } from './values.ts';
import type { Entry } from './yaml-nodes.ts';

/** A backend's own config keys: its `configKeys` without the common replica keys. */
export function backendKeys(plugin: BackendInfo): string[] {
  return plugin.configKeys.filter((key) => !COMMON_REPLICA_KEYS.includes(key));
}

/** Every backend key of the installed backends: what the top level may set for all replicas. */
export function installedBackendKeys(registry: BackendRegistry): string[] {
  return [...new Set(registry.list().flatMap(backendKeys))];
}

/** A backend setting's value for `fromConfig`; sizes become bytes, durations are checked. */
export function readBackendSetting(source: ConfigSource, entry: Entry): unknown {
  if (SIZE_SETTINGS.has(entry.key)) return readByteSize(source, entry);
  if (DURATION_SETTINGS.has(entry.key)) readDuration(source, entry, 'non-negative');
  return readSetting(source, entry);
}

/** `s3 (s3://), file (file://)`: the installed backends, for messages. */
export function describeInstalled(registry: BackendRegistry): string {
  const plugins = registry.list();
  if (plugins.length === 0) return '(none)';
  return plugins.map((p) => `${p.type} (${p.schemes.map((s) => `${s}://`).join(', ')})`).join(', ');
}

/**
 * Why a key is not accepted where it stands, when the reason is more than a typo: it
 * belongs to another installed backend, or to a Litestream backend that is not installed.
 */
export function explainBackendKey(key: string, registry: BackendRegistry, current?: BackendInfo): string | undefined {
  const owners = registry.list().filter((p) => p !== current && backendKeys(p).includes(key));
  if (owners.length > 0) {
    const names = owners.map((p) => p.type).join(', ');
    return current ? `it is a setting of the ${names} backend, not of ${current.type}` : `it is a setting of the ${names} backend`;
  }
  if (LITESTREAM_BACKEND_KEYS.has(key)) {
    const packages = packagesOfKey(key);
    if (packages.length === 1) return `it is a setting of ${packages[0]}, which is not installed: npm install ${packages[0]} (installed backends: ${describeInstalled(registry)})`;
    const which = packages.length > 0 ? ` (${packages.join(', ')})` : '';
    return `it is a Litestream setting of a backend that is not installed${which}; installed backends: ${describeInstalled(registry)}`;
  }
  return undefined;
}
