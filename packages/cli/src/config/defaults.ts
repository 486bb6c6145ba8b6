import { DEFAULT_COMPACTION_LEVELS, type CompactionLevel } from '@litestream-ts/core';
import type { LoggingConfig } from './types.ts';

/** Litestream v0.5's defaults for everything a config file may leave out (durations in ms). */
export const CONFIG_DEFAULTS: {
  readonly monitorInterval: number;
  readonly checkpointInterval: number;
  readonly busyTimeout: number;
  readonly minCheckpointPageCount: number;
  readonly truncatePageN: number;
  readonly syncInterval: number;
  readonly snapshotInterval: number;
  readonly snapshotRetention: number;
  readonly levels: readonly CompactionLevel[];
  readonly l0Retention: number;
  readonly shutdownSyncTimeout: number;
  readonly shutdownSyncInterval: number;
  readonly logging: LoggingConfig;
} = Object.freeze({
  monitorInterval: 1000,
  checkpointInterval: 60_000,
  busyTimeout: 1000,
  minCheckpointPageCount: 1000,
  truncatePageN: 121_359,
  syncInterval: 1000,
  snapshotInterval: 24 * 3_600_000,
  snapshotRetention: 24 * 3_600_000,
  levels: DEFAULT_COMPACTION_LEVELS,
  l0Retention: 5 * 60_000,
  shutdownSyncTimeout: 30_000,
  shutdownSyncInterval: 500,
  logging: Object.freeze({ level: 'info', type: 'text', stderr: false }),
});

/** Where the config is read from when no `-config` is given: `$LITESTREAM_CONFIG`, else `/etc/litestream.yml`. */
export function defaultConfigPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env.LITESTREAM_CONFIG;
  if (fromEnv) return fromEnv;
  return process.platform === 'win32' ? 'C:\\Litestream\\litestream.yml' : '/etc/litestream.yml';
}
