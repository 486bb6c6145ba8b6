/**
 * @litestream-ts/core: the LTX v3 codec, checksums, compaction, the ReplicaClient contract
 * and the backend registry. Backends and the CLI build on these; core imports no backend.
 */
export * from './checksum/index.ts';
export * from './ltx/constants.ts';
export * from './ltx/errors.ts';
export * from './ltx/txid.ts';
export * from './ltx/position.ts';
export * from './ltx/header.ts';
export * from './ltx/page-index.ts';
export * from './ltx/encoder.ts';
export * from './ltx/decoder.ts';
export * from './ltx/compactor.ts';
export * from './io/byte-reader.ts';
export * from './io/chunk-writer.ts';
export * from './io/durable.ts';
export * from './lz4/block.ts';
export * from './sqlite/database-header.ts';
export * from './sqlite/snapshot.ts';
export * from './sqlite/database-checksum.ts';
export * from './restore/ltx-applier.ts';
export * from './replica/replica-client.ts';
export * from './replica/registry.ts';
export * from './restore/restore-plan.ts';
export * from './restore/restore.ts';
export * from './restore/restore-if-not-exists.ts';
export * from './restore/restore-errors.ts';
export { checkIntegrity, type IntegrityCheckMode } from './restore/integrity-check.ts';
export * from './engine/logger.ts';
export * from './engine/metrics.ts';
export * from './engine/db-options.ts';
export * from './engine/db.ts';
export * from './engine/replica.ts';
export * from './engine/store.ts';
export type { SyncStatus } from './engine/replicated-database.ts';
export { writeReplicaSnapshot } from './engine/replica-snapshot.ts';
export * from './sqlite/wal.ts';
export * from './compaction/compaction-level.ts';
export * from './compaction/compaction-run.ts';
export * from './compaction/compact-level.ts';
export * from './compaction/retention.ts';
export * from './compaction/ltx-upload.ts';
export { readRemotePosition } from './engine/remote-position.ts';
export { LocalLtxFiles, type LocalLtxFile } from './engine/local-ltx-files.ts';
export * from './lease/leaser.ts';
export * from './ltx/timestamp.ts';
export * from './units/duration.ts';
export * from './units/byte-size.ts';
