import type { CompactionLevel } from '@litestream-ts/core';

/** Log verbosity, most verbose first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** How log lines are written. */
export interface LoggingConfig {
  readonly level: LogLevel;
  /** `text` (key=value lines) or `json` (one object a line). */
  readonly type: 'text' | 'json';
  /** Log to standard error instead of standard output. */
  readonly stderr: boolean;
  /** Add where each line was logged from (`source=FILE:LINE`), when true. */
  readonly source?: boolean;
}

/** The replica of one database. */
export interface ReplicaConfig {
  /** The backend type that serves it (`file`, `s3`, …), from `type`, the URL scheme, or `file` for a path. */
  readonly type: string;
  /** The replica URL as written, when the entry has one. */
  readonly url?: string;
  /** Deprecated Litestream name of the replica, kept for messages. */
  readonly name?: string;
  /** Milliseconds between uploads of new LTX files. */
  readonly syncInterval: number;
  /** Milliseconds between validations of the replica, when set. */
  readonly validationInterval?: number;
  /** `max-sync-ltx-files`: most staged files one upload pass sends (0: no limit), when set. */
  readonly maxSyncLtxFiles?: number;
  /** `connect-timeout` in ms, when set (else the backend's default). */
  readonly connectTimeout?: number;
  /** `request-timeout` in ms, when set (else the default, 30 s). */
  readonly requestTimeout?: number;
  /**
   * What to hand to the backend's `fromConfig`: `type`, `url` and `path` when given, and the
   * backend's own keys (kebab-case, as written) with the top-level ones merged in where this
   * entry leaves them unset. `part-size` is already converted to bytes.
   */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** One replicated database. */
export interface DatabaseConfig {
  /** Absolute path of the database file. */
  readonly path: string;
  /** Where the local LTX files are kept (absolute), when set. */
  readonly metaPath?: string;
  /** Milliseconds between checks of the WAL for new frames. */
  readonly monitorInterval: number;
  /** Milliseconds between PASSIVE checkpoints while the WAL has frames (0 disables). */
  readonly checkpointInterval: number;
  /** Milliseconds SQLite waits on a lock. */
  readonly busyTimeout: number;
  /** WAL size in pages that triggers a PASSIVE checkpoint. */
  readonly minCheckpointPageCount: number;
  /** WAL size in pages that forces a TRUNCATE checkpoint (0 disables). */
  readonly truncatePageN: number;
  /** `max-sync-wal-bytes`: WAL bytes one L0 file covers at most, when set (0: no limit). */
  readonly maxSyncWalBytes?: number;
  /** Restore from the replica at start-up when the database file is missing. */
  readonly restoreIfDbNotExists: boolean;
  /** Hold a lease on the replica while replicating (only one writer); `ttl` in ms. */
  readonly lease?: { readonly ttl: number };
  readonly replica: ReplicaConfig;
}

/**
 * A directory of databases (`dir` instead of `path`): every SQLite database in WAL mode whose
 * file name matches `pattern` is replicated with the entry's settings, to the entry's replica
 * with its path relative to `dir` appended.
 */
export interface DirectoryConfig extends Omit<DatabaseConfig, 'path' | 'metaPath'> {
  /** Absolute path of the directory. */
  readonly dir: string;
  /** File name pattern, in Go's `filepath.Match` syntax (`*.db`). */
  readonly pattern: string;
  /** Search subdirectories too. */
  readonly recursive: boolean;
  /** Keep watching: pick up new databases and release removed ones while running. */
  readonly watch: boolean;
  /** `meta-path` as given (absolute): each database's metadata goes below it, by relative path. */
  readonly metaPath?: string;
  /** `meta-dir` (absolute): each database's metadata goes to `<meta-dir>/<relative path>-litestream`. */
  readonly metaDir?: string;
  /** Where the entry is in the config (`dbs[1]`), for messages. */
  readonly entry: string;
}

/** A Litestream v0.5 config file, read, checked and completed with defaults. */
export interface LitestreamConfig {
  readonly dbs: readonly DatabaseConfig[];
  /** The `dir` entries of `dbs`, whose databases are found when replication starts. */
  readonly dirs: readonly DirectoryConfig[];
  /** Snapshot schedule and retention, in milliseconds. */
  readonly snapshot: { readonly interval: number; readonly retention: number };
  /** Compaction tiers L1, L2, …, each with its interval in milliseconds. */
  readonly levels: readonly CompactionLevel[];
  /** Milliseconds L0 files are kept after they were compacted (0: dropped at once). */
  readonly l0Retention: number;
  /**
   * `l0-retention-check-interval` in ms, when set: L0 retention is also checked this often while
   * compacted L0 files wait to age out (without it, only after each compaction and snapshot).
   */
  readonly l0RetentionCheckInterval?: number;
  /** `retention.enabled`: false when nothing may be deleted from the replicas (lifecycle rules expire files). */
  readonly retention: boolean;
  readonly logging: LoggingConfig;
  /** Address of the metrics HTTP server (`:9090`, `127.0.0.1:9090`), when set. */
  readonly addr?: string;
  /** Address of the MCP server `replicate` runs (`mcp-addr`: `:3001`, `127.0.0.1:3001`), when set. */
  readonly mcpAddr?: string;
  /** How long shutdown keeps trying to sync the last changes, in ms (0: no final sync). */
  readonly shutdownSyncTimeout: number;
  /** Milliseconds between those final sync attempts. */
  readonly shutdownSyncInterval: number;
  /** A command to run while replicating; replication stops when it exits. */
  readonly exec?: string;
  /** The control socket `replicate` serves, when the config has a `socket` section. */
  readonly socket?: SocketConfig;
  /** Dead-man's-switch pings, when `heartbeat-url` is set. */
  readonly heartbeat?: HeartbeatConfig;
  /** Deprecated or ignored settings found in the file, one formatted line each. */
  readonly warnings: readonly string[];
}

/** `socket:`: the HTTP control API `replicate` serves on a Unix socket. */
export interface SocketConfig {
  readonly enabled: boolean;
  /** Absolute path of the socket file (default `/var/run/litestream.sock`). */
  readonly path: string;
  /** File mode of the socket (default 0o600: only its owner may connect). */
  readonly permissions: number;
}

/** `heartbeat-url` and `heartbeat-interval`. */
export interface HeartbeatConfig {
  /** The http(s) URL to GET; it may hold a secret token, so it is never logged whole. */
  readonly url: string;
  /** Milliseconds between pings, and how recent every database's last sync must be. */
  readonly interval: number;
}
