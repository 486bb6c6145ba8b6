/**
 * Counters and gauges the engine updates; the CLI publishes them to Prometheus under
 * Litestream's names (`litestream_db_size`, `litestream_txid`, …). The default does nothing.
 */
export interface EngineMetrics {
  /** Database file size in bytes. */
  dbSize(db: string, bytes: number): void;
  /** WAL file size in bytes. */
  walSize(db: string, bytes: number): void;
  /** Latest local TXID. */
  txid(db: string, txid: number): void;
  /** One sync of a database finished (ok or not) after `seconds`. */
  sync(db: string, seconds: number, error: boolean): void;
  /** One checkpoint in `mode` finished. */
  checkpoint(db: string, mode: string, error: boolean): void;
  /** One replica storage operation (GET, PUT, DELETE, LIST) finished. */
  replicaOperation(db: string, replica: string, operation: ReplicaOperation, bytes: number, error: boolean): void;
  /** L0 files kept locally, by status (`eligible` for deletion, `not_compacted`, `too_recent`). */
  l0RetentionFiles(db: string, status: 'eligible' | 'not_compacted' | 'too_recent', count: number): void;
  /**
   * Whether the replica restores, as far as the engine knows: false from a confirmed corrupt
   * replica file until the full image that repairs it is uploaded. Reported at start and on
   * every change. Optional, so metrics written for earlier versions still fit.
   */
  replicaHealthy?(db: string, replica: string, healthy: boolean): void;
  /** A corrupt replica file was found (and confirmed by a second read), by `detectedBy`. */
  replicaCorruption?(db: string, replica: string, detectedBy: 'compaction' | 'snapshot' | 'validation'): void;
  /** A full image that repairs a corrupt replica was uploaded. */
  replicaRepaired?(db: string, replica: string): void;
}

export type ReplicaOperation = 'GET' | 'PUT' | 'DELETE' | 'LIST';

/** Metrics that go nowhere. */
export const noMetrics: EngineMetrics = {
  dbSize() {},
  walSize() {},
  txid() {},
  sync() {},
  checkpoint() {},
  replicaOperation() {},
  l0RetentionFiles() {},
};
