// The control socket's HTTP API: JSON bodies with Litestream v0.5's endpoint paths and field
// names (snake_case), plus the per-database `info` that Litestream lacks. Types only, so the
// commands that talk to the socket load nothing but this and node:http.

// Endpoints: GET /list, GET /info (the daemon; with ?path=DB one database), GET /txid?path=DB,
// POST /sync, /start, /stop, /register, /unregister (JSON bodies below). Errors answer a non-200
// status with an ErrorResponse.

/** The body of every error answer. */
export interface ErrorResponse {
  readonly error: string;
  /** With "database not found": the databases this `replicate` knows. */
  readonly known_databases?: readonly string[];
}

/**
 * What a database is doing: replicated, being added (`start`, `register` under way), or stopped
 * by `litestream stop` (and kept for `start`).
 */
export type DatabaseState = 'replicating' | 'starting' | 'stopped';

/** One database in `GET /list`. */
export interface DatabaseSummary {
  readonly path: string;
  readonly status: DatabaseState;
  /** When its replica last held everything given to it (RFC 3339), if ever since it started. */
  readonly last_sync_at?: string;
  readonly txid: number;
  readonly replica_txid: number;
  /** The last sync error, while syncs fail. */
  readonly last_error?: string;
}

export interface ListResponse {
  readonly databases: readonly DatabaseSummary[];
}

/** `GET /info` without a path: the daemon. */
export interface InfoResponse {
  readonly version: string;
  readonly pid: number;
  readonly uptime_seconds: number;
  readonly started_at: string;
  readonly database_count: number;
}

/** `GET /info?path=DB`: one database. */
export interface DatabaseInfoResponse {
  readonly path: string;
  readonly status: DatabaseState;
  /** Where it is replicated to (URL passwords hidden), or the backend type. */
  readonly replica: string;
  /** `config` (the config file), `register` (`litestream register`) or `other` (added at run time otherwise). */
  readonly source: 'config' | 'register' | 'other';
  /** Last local TXID (staged as LTX). */
  readonly txid: number;
  /** Last TXID the replica holds, as far as this process knows. */
  readonly replica_txid: number;
  /** Transactions staged locally that the replica does not hold yet. */
  readonly lag: number;
  readonly in_sync: boolean;
  /** False while a corrupt replica file awaits the full image that repairs it. */
  readonly healthy: boolean;
  readonly last_sync_at?: string;
  readonly last_error?: string;
  readonly corrupt_files?: readonly string[];
}

/** `GET /txid?path=DB`. */
export interface TXIDResponse {
  readonly txid: number;
}

/** `POST /start` and `POST /stop`; `timeout` in seconds. */
export interface StartStopRequest {
  readonly path: string;
  readonly timeout?: number;
}

export interface StartStopResponse {
  /** `started`, `already_running`, `stopped` or `already_stopped`. */
  readonly status: string;
  readonly path: string;
  readonly txid: number;
}

/** `POST /sync`; `timeout` in seconds (default 30 with `wait`). */
export interface SyncRequest {
  readonly path: string;
  readonly wait?: boolean;
  readonly timeout?: number;
}

export interface SyncResponse {
  /** `synced` (with `wait`: the replica holds everything committed before the call) or `sync_started`. */
  readonly status: string;
  readonly path: string;
  readonly txid: number;
  readonly replicated_txid: number;
}

/** `POST /register`; `timeout` in seconds. */
export interface RegisterRequest {
  readonly path: string;
  readonly replica_url: string;
  readonly timeout?: number;
}

export interface RegisterResponse {
  /** `registered` or `already_registered`. */
  readonly status: string;
  readonly path: string;
}

/** `POST /unregister`; `timeout` in seconds (for the final sync). */
export interface UnregisterRequest {
  readonly path: string;
  readonly timeout?: number;
}

export interface UnregisterResponse {
  readonly status: string;
  readonly path: string;
  /** The local TXID when it was released. */
  readonly txid: number;
}
