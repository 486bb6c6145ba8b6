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
  /**
   * WAL bytes one L0 file covers at most (Litestream's `max-sync-wal-bytes`; default 0: no
   * limit). A sync that finds more committed WAL writes several files, each ending at a commit,
   * so a large backlog is replicated in bounded steps; a transaction larger than this still
   * goes whole into one file (which may take a few small ones after it along).
   */
  readonly maxSyncWalBytes?: number;
  readonly logger?: Logger;
  readonly metrics?: EngineMetrics;
}

export const DB_DEFAULTS = {
  busyTimeout: 1000,
  minCheckpointPageCount: 1000,
  checkpointInterval: 60_000,
  truncatePageN: 121_359,
  maxSyncWalBytes: 0,
} as const;
