import type { Logger } from './logger.ts';
import type { EngineMetrics } from './metrics.ts';

/** Settings of one replicated database; names and defaults follow Litestream v0.5. */
export interface DBOptions {
  /** Where L0 files are staged (default `<dir>/.<name>-litestream`). */
  readonly metaPath?: string;
  /** How long SQLite waits on a lock, in ms (default 1000). */
  readonly busyTimeout?: number;
  /** PASSIVE checkpoint once the WAL holds this many pages (default 1000). */
  readonly minCheckpointPageCount?: number;
  /** PASSIVE checkpoint at least this often while the WAL has frames, in ms (default 60 000; 0 disables). */
  readonly checkpointInterval?: number;
  /** TRUNCATE checkpoint once the WAL holds this many pages (default 121 359; 0 disables). */
  readonly truncatePageN?: number;
  readonly logger?: Logger;
  readonly metrics?: EngineMetrics;
}

export const DB_DEFAULTS = {
  busyTimeout: 1000,
  minCheckpointPageCount: 1000,
  checkpointInterval: 60_000,
  truncatePageN: 121_359,
} as const;
