import type { ReplicaClient, SyncStatus } from '@litestream-ts/core';

/** One database `replicate` serves, as the MCP tools see it. */
export interface McpDatabase {
  /** Absolute path of the database file. */
  readonly path: string;
  /** The replica's backend type (`s3`, `file`, …). */
  readonly replicaType: string;
  /** The running replica client (shared with replication; the tools only read through it, and restore). */
  readonly client: ReplicaClient;
}

/** What the MCP server reads from a running `replicate`, asked afresh on every call. */
export interface McpSource {
  /** The databases being replicated now. */
  databases(): readonly McpDatabase[];
  /** Local versus replica position of each database (core's `Store.syncStatus()`). */
  syncStatus(): readonly SyncStatus[];
}
