import type { ReplicaClient, StoreDatabase } from '@litestream-ts/core';
import type { DatabaseConfig } from '../config/index.ts';

/** What the engine replicates for one database of the config, to `client`. */
export function storeDatabase(d: DatabaseConfig, client: ReplicaClient): StoreDatabase {
  return {
    path: d.path,
    replica: client,
    // Metrics label replicas by backend type, as Litestream's dashboards expect.
    replicaName: d.replica.type,
    db: {
      metaPath: d.metaPath,
      busyTimeout: d.busyTimeout,
      minCheckpointPageCount: d.minCheckpointPageCount,
      checkpointInterval: d.checkpointInterval,
      truncatePageN: d.truncatePageN,
      ...(d.maxSyncWalBytes !== undefined ? { maxSyncWalBytes: d.maxSyncWalBytes } : {}),
    },
    ...(d.lease ? { lease: d.lease } : {}),
    // An interval of 0 means "as soon as it changes": the WAL is watched instead of polled.
    watchWal: d.monitorInterval === 0 || d.replica.syncInterval === 0,
    // Re-read and verify what the replica holds (0 or unset: off).
    ...(d.replica.validationInterval !== undefined ? { validationInterval: d.replica.validationInterval } : {}),
    // Staged files one upload pass sends (Litestream's max-sync-ltx-files; unset: core's 256).
    ...(d.replica.maxSyncLtxFiles !== undefined ? { maxSyncLtxFiles: d.replica.maxSyncLtxFiles } : {}),
  };
}
