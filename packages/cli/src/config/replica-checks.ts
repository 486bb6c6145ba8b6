import { InvalidSettingError, UsageError, redactURL, type BackendRegistry } from '@litestream-ts/core';
import { isScalar } from 'yaml';
import type { ConfigSource } from './config-source.ts';
import type { Entry, Mapping } from './yaml-nodes.ts';

/** The replica keys that say where the data goes. */
const LOCATION_KEYS = ['url', 'path', 'bucket'] as const;

/**
 * Refuses a replica whose location (`url`, `path`, `bucket`, written in the entry or inherited
 * from the top level) was built from a variable that expanded to nothing: `file://${UNSET}/x`
 * reads as `file:///x`, a legal path at the file system root, and `s3://${BUCKET}/db` as no
 * bucket at all. A location is where backups go; it is never guessed.
 */
export function checkLocationVariables(source: ConfigSource, mapping: Mapping, inherited: ReadonlyMap<string, Entry> = new Map()): void {
  for (const key of LOCATION_KEYS) {
    const entry = mapping.entries.get(key) ?? inherited.get(key);
    if (!entry) continue;
    const blanks = source.blankVariablesOf(entry.keyNode, entry.value);
    if (blanks.length === 0) continue;
    const names = [...new Map(blanks.map((b) => [b.name, b])).values()];
    const what = names.map((b) => `\${${b.name}} ${b.unset ? 'is not set' : 'is set to the empty string'}`).join(', ');
    const value = isScalar(entry.value) && entry.value.value !== null ? String(entry.value.value) : '';
    const result = value === '' ? 'is empty' : `reads ${JSON.stringify(redactURL(value))}`;
    throw source.error(
      entry.value ?? entry.keyNode,
      entry.path,
      `the replica location ${result} because ${what}; set ${names.length > 1 ? 'these variables' : 'the variable'} or write the location out`,
    );
  }
}

/**
 * Runs the backend's own checks of a replica entry (endpoints, names, paths), as its client
 * will when it is built, so that a malformed value fails when the config is read, at the line
 * that holds it.
 */
export function checkReplicaSettings(
  source: ConfigSource,
  mapping: Mapping,
  inherited: ReadonlyMap<string, Entry>,
  registry: BackendRegistry,
  settings: Readonly<Record<string, unknown>>,
): void {
  try {
    registry.checkConfig(settings);
  } catch (cause) {
    if (!(cause instanceof UsageError)) throw cause;
    // A setting the backend named: where the entry (or the top level) wrote it, or the URL that carried it.
    const setting = cause instanceof InvalidSettingError ? cause.setting : undefined;
    const entry = setting === undefined ? undefined : (mapping.entries.get(setting) ?? inherited.get(setting) ?? mapping.entries.get('url'));
    throw source.error(entry?.value ?? mapping.node, entry?.path ?? mapping.path, cause.message, { cause });
  }
}
