import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from './prometheus-metrics.ts';

describe('PrometheusMetrics', () => {
  it('exports what the engine reports under Litestream names and labels', async () => {
    const metrics = new PrometheusMetrics({ defaultMetrics: false });
    metrics.dbSize('/data/app.db', 8192);
    metrics.walSize('/data/app.db', 4152);
    metrics.txid('/data/app.db', 42);
    metrics.sync('/data/app.db', 0.25, false);
    metrics.sync('/data/app.db', 0.5, true);
    metrics.checkpoint('/data/app.db', 'PASSIVE', false);
    metrics.checkpoint('/data/app.db', 'TRUNCATE', true);
    metrics.replicaOperation('/data/app.db', 's3', 'PUT', 1000, false);
    metrics.replicaOperation('/data/app.db', 's3', 'PUT', 24, false);
    metrics.replicaOperation('/data/app.db', 's3', 'PUT', 0, true);
    metrics.replicaOperation('/data/app.db', 's3', 'LIST', 0, false);
    metrics.l0RetentionFiles('/data/app.db', 'eligible', 3);
    metrics.l0RetentionFiles('/data/app.db', 'too_recent', 1);
    metrics.l0RetentionFiles('/data/app.db', 'eligible', 0);

    const text = await metrics.exposition();
    const lines = text.split('\n');
    for (const sample of [
      'litestream_db_size{db="/data/app.db"} 8192',
      'litestream_wal_size{db="/data/app.db"} 4152',
      'litestream_txid{db="/data/app.db"} 42',
      'litestream_sync_count{db="/data/app.db"} 2',
      'litestream_sync_error_count{db="/data/app.db"} 1',
      'litestream_sync_seconds{db="/data/app.db"} 0.75',
      'litestream_checkpoint_count{db="/data/app.db",mode="PASSIVE"} 1',
      'litestream_checkpoint_count{db="/data/app.db",mode="TRUNCATE"} 1',
      'litestream_checkpoint_error_count{db="/data/app.db",mode="TRUNCATE"} 1',
      'litestream_replica_operation_total{replica_type="s3",operation="PUT"} 2',
      'litestream_replica_operation_total{replica_type="s3",operation="LIST"} 1',
      'litestream_replica_operation_bytes{replica_type="s3",operation="PUT"} 1024',
      'litestream_replica_operation_errors_total{replica_type="s3",operation="PUT",code="unknown"} 1',
      'litestream_l0_retention_files_total{db="/data/app.db",status="eligible"} 0',
      'litestream_l0_retention_files_total{db="/data/app.db",status="too_recent"} 1',
    ]) {
      expect(lines).toContain(sample);
    }
    expect(text).toContain('# TYPE litestream_replica_operation_total counter');
    expect(text).toContain('# TYPE litestream_db_size gauge');
    expect(text).not.toContain('checkpoint_error_count{db="/data/app.db",mode="PASSIVE"}');
    expect(text).not.toContain('process_cpu');
  });

  it('keeps instances apart and adds Node process metrics by default', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics({ defaultMetrics: false });
    a.txid('/a.db', 1);
    expect(await b.exposition()).not.toContain('/a.db');
    expect(a.metricNames()).toContain('process_cpu_seconds_total');
    expect(b.metricNames()).not.toContain('process_cpu_seconds_total');
  });

  it('reports replica health: unhealthy from a corrupt file until its repair, with counts of corrupt files and repairs', async () => {
    const metrics = new PrometheusMetrics({ defaultMetrics: false });
    metrics.replicaHealthy('/data/app.db', 'file', true);
    metrics.replicaCorruption('/data/app.db', 'file', 'compaction');
    metrics.replicaHealthy('/data/app.db', 'file', false);
    expect((await metrics.exposition()).split('\n')).toContain('litestream_replica_healthy{db="/data/app.db",replica_type="file"} 0');
    metrics.replicaRepaired('/data/app.db', 'file');
    metrics.replicaHealthy('/data/app.db', 'file', true);
    const lines = (await metrics.exposition()).split('\n');
    for (const sample of [
      'litestream_replica_healthy{db="/data/app.db",replica_type="file"} 1',
      'litestream_replica_corrupt_files_total{db="/data/app.db",replica_type="file",detected_by="compaction"} 1',
      'litestream_replica_repairs_total{db="/data/app.db",replica_type="file"} 1',
    ]) {
      expect(lines).toContain(sample);
    }
  });
});
