// Readers of the top-level sections other than `dbs`.
import { MAX_COMPACTION_LEVEL, type CompactionLevel } from '@litestream-ts/core';
import type { ConfigSource } from './config-source.ts';
import { CONFIG_DEFAULTS } from './defaults.ts';
import { LEVEL_KEYS, LOGGING_KEYS, RETENTION_KEYS, SNAPSHOT_KEYS, VALIDATION_KEYS } from './known-keys.ts';
import { quoteValue } from './redaction.ts';
import type { LoggingConfig, LogLevel } from './types.ts';
import { readBoolean, readDuration, readText } from './values.ts';
import { checkKeys, isEmptyValue, readList, readMapping, type Entry } from './yaml-nodes.ts';

/** `snapshot: {interval, retention}` as given (unset parts stay undefined). */
export function readSnapshot(source: ConfigSource, entry: Entry | undefined): { interval?: number | undefined; retention?: number | undefined } {
  if (!entry || isEmptyValue(entry.value)) return {};
  const mapping = readMapping(source, entry.value, entry.path);
  checkKeys(source, mapping, { known: SNAPSHOT_KEYS, listKnown: true });
  const interval = mapping.entries.get('interval');
  const retention = mapping.entries.get('retention');
  return {
    interval: interval && readDuration(source, interval, 'positive'),
    retention: retention && readDuration(source, retention, 'positive'),
  };
}

/** `levels: [{interval: 30s}, …]`: entry i is compaction level i + 1. */
export function readLevels(source: ConfigSource, entry: Entry | undefined): readonly CompactionLevel[] {
  if (!entry || isEmptyValue(entry.value)) return CONFIG_DEFAULTS.levels;
  const items = readList(source, entry);
  if (items.length === 0) {
    throw source.error(entry.value, entry.path, 'needs at least one level (level 1 compacts the L0 files); remove "levels" to use the defaults 30s, 5m, 1h');
  }
  return items.map((item, i) => {
    if (i + 1 > MAX_COMPACTION_LEVEL) {
      throw source.error(item.node, item.path, `too many levels: at most ${MAX_COMPACTION_LEVEL} (level ${MAX_COMPACTION_LEVEL + 1} holds snapshots)`);
    }
    const mapping = readMapping(source, item.node, item.path);
    checkKeys(source, mapping, { known: LEVEL_KEYS, listKnown: true });
    const intervalEntry = mapping.entries.get('interval');
    const interval = intervalEntry && readDuration(source, intervalEntry, 'positive');
    if (interval === undefined) throw source.error(item.node, item.path, 'missing "interval": how often this level is compacted (for example interval: 5m)');
    return { level: i + 1, interval };
  });
}

const LOG_LEVELS: ReadonlyMap<string, LogLevel> = new Map([
  ['trace', 'trace'],
  ['debug', 'debug'],
  ['info', 'info'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['error', 'error'],
]);

/**
 * `logging: {level, type, stderr}`. As in Litestream, a non-empty `LOG_LEVEL` in the
 * environment overrides the level.
 */
export function readLogging(source: ConfigSource, entry: Entry | undefined, logLevelEnv: string | undefined): LoggingConfig {
  let level: LogLevel = CONFIG_DEFAULTS.logging.level;
  let type: LoggingConfig['type'] = CONFIG_DEFAULTS.logging.type;
  let stderr = CONFIG_DEFAULTS.logging.stderr;
  let addSource = false;
  if (entry && !isEmptyValue(entry.value)) {
    const mapping = readMapping(source, entry.value, entry.path);
    checkKeys(source, mapping, { known: LOGGING_KEYS, listKnown: true });
    const levelEntry = mapping.entries.get('level');
    const levelText = levelEntry && readText(source, levelEntry);
    if (levelEntry && levelText) {
      const parsed = LOG_LEVELS.get(levelText.toLowerCase());
      if (!parsed) throw source.error(levelEntry.value, levelEntry.path, `unknown log level ${quoteValue('level', levelText)} (use trace, debug, info, warn or error)`);
      level = parsed;
    }
    const typeEntry = mapping.entries.get('type');
    const typeText = typeEntry && readText(source, typeEntry);
    if (typeEntry && typeText) {
      if (typeText === 'json' || typeText === 'text') type = typeText;
      else if (typeText === 'pretty') source.warn(typeEntry.value, typeEntry.path, 'the "pretty" log type is written as "text" here');
      else throw source.error(typeEntry.value, typeEntry.path, `unknown log type ${quoteValue('type', typeText)} (use text or json)`);
    }
    const stderrEntry = mapping.entries.get('stderr');
    stderr = (stderrEntry && readBoolean(source, stderrEntry)) ?? stderr;
    const sourceEntry = mapping.entries.get('source');
    addSource = (sourceEntry && readBoolean(source, sourceEntry)) ?? false;
  }
  if (logLevelEnv) {
    const fromEnv = LOG_LEVELS.get(logLevelEnv.toLowerCase());
    if (fromEnv) level = fromEnv;
    else source.warn(undefined, undefined, `LOG_LEVEL ${JSON.stringify(logLevelEnv)} is not a log level (trace, debug, info, warn, error); using ${level}`);
  }
  return { level, type, stderr, ...(addSource ? { source: true } : {}) };
}

/**
 * `retention: {enabled}` (default true). False keeps every file on the replica: nothing is
 * deleted there, so the bucket's lifecycle rules must expire old files.
 */
export function readRetention(source: ConfigSource, entry: Entry | undefined): boolean {
  if (!entry || isEmptyValue(entry.value)) return true;
  const mapping = readMapping(source, entry.value, entry.path);
  checkKeys(source, mapping, { known: RETENTION_KEYS, listKnown: true });
  const enabled = mapping.entries.get('enabled');
  return (enabled && readBoolean(source, enabled)) ?? true;
}

/**
 * `validation: {interval}`: Litestream's store-wide validation of every replica, the same as a
 * top-level `validation-interval` here. Undefined when not set.
 */
export function readValidation(source: ConfigSource, entry: Entry | undefined): { interval: number; entry: Entry } | undefined {
  if (!entry || isEmptyValue(entry.value)) return undefined;
  const mapping = readMapping(source, entry.value, entry.path);
  checkKeys(source, mapping, { known: VALIDATION_KEYS, listKnown: true });
  const intervalEntry = mapping.entries.get('interval');
  const interval = intervalEntry && readDuration(source, intervalEntry, 'non-negative');
  return interval === undefined ? undefined : { interval, entry: intervalEntry! };
}

/** `addr` (metrics) or `mcp-addr` (MCP server): `host:port` or `:port`. */
export function readAddr(source: ConfigSource, entry: Entry | undefined): string | undefined {
  const text = entry && readText(source, entry);
  if (!entry || !text) return undefined;
  const match = /^(\[[^\]]*\]|[^:[\]]*):(\d{1,5})$/.exec(text);
  if (!match || Number(match[2]) > 65_535) {
    throw source.error(entry.value, entry.path, `expected host:port such as ":9090" or "127.0.0.1:9090", got ${quoteValue('addr', text)}`);
  }
  return text;
}
