import type { EngineMetrics, ReplicaOperation } from '@litestream-ts/core';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Options of {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * Also export the Node process metrics (`process_cpu_seconds_total`, `nodejs_heap_size_*`…),
   * as Litestream exports Go's `process_*`/`go_*` (default: true).
   */
  readonly defaultMetrics?: boolean;
}

/**
 * The engine's metrics under Litestream v0.5's names and labels (`db.go` and
 * `internal/internal.go`), so existing Prometheus queries and dashboards keep working.
 * Metrics live on a private registry: several instances (tests, a library embedding us next
 * to its own prom-client metrics) never collide on the global one.
 *
 * Litestream metrics the engine has no data for are not registered (`litestream_total_wal_bytes`,
 * `litestream_checkpoint_seconds`, `litestream_replica_operation_duration_seconds`,
 * `litestream_disk_full`, `litestream_compaction_verify_error_count`): an always-zero series
 * would look like a healthy reading.
 */
export class PrometheusMetrics implements EngineMetrics {
  /** The registry the metrics server scrapes. */
  readonly registry: Registry;
  private readonly dbSizeGauge: Gauge<'db'>;
  private readonly walSizeGauge: Gauge<'db'>;
  private readonly txidGauge: Gauge<'db'>;
  private readonly syncCount: Counter<'db'>;
  private readonly syncErrorCount: Counter<'db'>;
  private readonly syncSeconds: Counter<'db'>;
  private readonly checkpointCount: Counter<'db' | 'mode'>;
  private readonly checkpointErrorCount: Counter<'db' | 'mode'>;
  private readonly replicaOperations: Counter<'replica_type' | 'operation'>;
  private readonly replicaOperationBytes: Counter<'replica_type' | 'operation'>;
  private readonly replicaOperationErrors: Counter<'replica_type' | 'operation' | 'code'>;
  private readonly l0RetentionGauge: Gauge<'db' | 'status'>;
  private readonly replicaHealthyGauge: Gauge<'db' | 'replica_type'>;
  private readonly replicaCorruptionCount: Counter<'db' | 'replica_type' | 'detected_by'>;
  private readonly replicaRepairCount: Counter<'db' | 'replica_type'>;

  constructor(options: PrometheusMetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const db = ['db'] as const;
    this.dbSizeGauge = new Gauge({ name: 'litestream_db_size', help: 'Size of the database file in bytes', labelNames: db, registers });
    this.walSizeGauge = new Gauge({ name: 'litestream_wal_size', help: 'Size of the WAL file in bytes', labelNames: db, registers });
    this.txidGauge = new Gauge({ name: 'litestream_txid', help: 'Latest replicated transaction ID', labelNames: db, registers });
    this.syncCount = new Counter({ name: 'litestream_sync_count', help: 'Syncs of the WAL into LTX files', labelNames: db, registers });
    this.syncErrorCount = new Counter({ name: 'litestream_sync_error_count', help: 'Syncs that failed', labelNames: db, registers });
    this.syncSeconds = new Counter({ name: 'litestream_sync_seconds', help: 'Seconds spent syncing', labelNames: db, registers });
    const dbMode = ['db', 'mode'] as const;
    this.checkpointCount = new Counter({ name: 'litestream_checkpoint_count', help: 'Checkpoints run, by mode', labelNames: dbMode, registers });
    this.checkpointErrorCount = new Counter({ name: 'litestream_checkpoint_error_count', help: 'Checkpoints that failed, by mode', labelNames: dbMode, registers });
    const op = ['replica_type', 'operation'] as const;
    this.replicaOperations = new Counter({ name: 'litestream_replica_operation_total', help: 'Replica storage operations that succeeded', labelNames: op, registers });
    this.replicaOperationBytes = new Counter({ name: 'litestream_replica_operation_bytes', help: 'Bytes moved by replica storage operations', labelNames: op, registers });
    this.replicaOperationErrors = new Counter({
      name: 'litestream_replica_operation_errors_total',
      help: 'Replica storage operations that failed',
      labelNames: ['replica_type', 'operation', 'code'] as const,
      registers,
    });
    this.l0RetentionGauge = new Gauge({
      name: 'litestream_l0_retention_files_total',
      help: 'Local L0 files at the last retention pass, by status',
      labelNames: ['db', 'status'] as const,
      registers,
    });
    // Not Litestream's: litestream-ts repairs a corrupt replica, and says while it cannot restore.
    const dbReplica = ['db', 'replica_type'] as const;
    this.replicaHealthyGauge = new Gauge({
      name: 'litestream_replica_healthy',
      help: '1 while the replica restores as far as checked; 0 from finding a corrupt replica file until the full image that repairs it is uploaded',
      labelNames: dbReplica,
      registers,
    });
    this.replicaCorruptionCount = new Counter({
      name: 'litestream_replica_corrupt_files_total',
      help: 'Corrupt replica files found (confirmed by a second read), by what found them: compaction, snapshot or validation',
      labelNames: ['db', 'replica_type', 'detected_by'] as const,
      registers,
    });
    this.replicaRepairCount = new Counter({ name: 'litestream_replica_repairs_total', help: 'Full images uploaded to repair a corrupt replica', labelNames: dbReplica, registers });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  dbSize(db: string, bytes: number): void {
    this.dbSizeGauge.set({ db }, bytes);
  }

  walSize(db: string, bytes: number): void {
    this.walSizeGauge.set({ db }, bytes);
  }

  txid(db: string, txid: number): void {
    this.txidGauge.set({ db }, txid);
  }

  // As in Litestream, every sync and checkpoint counts, and failed ones count again as errors.
  sync(db: string, seconds: number, error: boolean): void {
    this.syncCount.inc({ db });
    if (error) this.syncErrorCount.inc({ db });
    this.syncSeconds.inc({ db }, Math.max(0, seconds));
  }

  checkpoint(db: string, mode: string, error: boolean): void {
    this.checkpointCount.inc({ db, mode });
    if (error) this.checkpointErrorCount.inc({ db, mode });
  }

  /**
   * `replica` becomes the `replica_type` label (the engine passes the replica's name, which
   * defaults to the backend type). Replica series carry no `db` label, as in Litestream. Like
   * Litestream, the total counts successful operations only; a failure counts under
   * `…_errors_total` with `code="unknown"` (the engine reports no provider error code).
   */
  replicaOperation(_db: string, replica: string, operation: ReplicaOperation, bytes: number, error: boolean): void {
    const labels = { replica_type: replica, operation };
    if (error) {
      this.replicaOperationErrors.inc({ ...labels, code: 'unknown' });
      return;
    }
    this.replicaOperations.inc(labels);
    this.replicaOperationBytes.inc(labels, Math.max(0, bytes));
  }

  l0RetentionFiles(db: string, status: 'eligible' | 'not_compacted' | 'too_recent', count: number): void {
    this.l0RetentionGauge.set({ db, status }, count);
  }

  replicaHealthy(db: string, replica: string, healthy: boolean): void {
    this.replicaHealthyGauge.set({ db, replica_type: replica }, healthy ? 1 : 0);
  }

  replicaCorruption(db: string, replica: string, detectedBy: 'compaction' | 'snapshot' | 'validation'): void {
    this.replicaCorruptionCount.inc({ db, replica_type: replica, detected_by: detectedBy });
  }

  replicaRepaired(db: string, replica: string): void {
    this.replicaRepairCount.inc({ db, replica_type: replica });
  }

  /** The metrics in Prometheus text exposition format. */
  async exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** The HTTP content type of {@link PrometheusMetrics.exposition}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Names of every registered metric (the dashboard test checks its queries against them). */
  metricNames(): string[] {
    return this.registry.getMetricsAsArray().map((metric) => metric.name);
  }
}
