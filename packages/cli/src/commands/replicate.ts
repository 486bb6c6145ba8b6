import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger, ReplicaClient, StoreDatabase } from '@litestream-ts/core';
import type { Command } from 'commander';
import type { LitestreamConfig } from '../config/index.ts';
import { readConfig, replicaClientFor, shorthandConfig } from '../context.ts';
import { CliError } from '../cli-error.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { commandLogger } from '../runtime.ts';
import { collectSecrets } from '../secrets.ts';

interface ReplicateOptions {
  config?: string;
  exec?: string;
  once?: boolean;
  forceSnapshot?: boolean;
  enforceRetention?: boolean;
  restoreIfDbNotExists?: boolean;
  logLevel?: string;
  expandEnv?: boolean;
}

export function registerReplicate(program: Command, registry: DeferredRegistry): void {
  program
    .command('replicate')
    .summary('continuously replicate databases')
    .description(
      'Replicates every database of the config file, or one database given as DB URL, until stopped by SIGINT/SIGTERM ' +
        '(which runs a final sync within shutdown-sync-timeout) or until the -exec command exits.',
    )
    .argument('[db]', 'database path (shorthand form, with replica-url)')
    .argument('[replica-url]', 'replica URL, e.g. file:///backups/app or s3://bucket/path')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--exec <command>', 'run this command as a child; stop replicating when it exits and exit with its code')
    .option('--once', 'sync every database once, then exit')
    .option('--force-snapshot', 'with -once: also write a level-9 snapshot')
    .option('--enforce-retention', 'with -once: also enforce snapshot and L0 retention')
    .option('--restore-if-db-not-exists', 'restore a missing database from its replica before replicating')
    .option('--log-level <level>', 'trace, debug, info, warn or error (overrides logging.level)')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (db: string | undefined, url: string | undefined, opts: ReplicateOptions) => {
      if (db !== undefined && url === undefined) throw new CliError('the shorthand form needs both a database path and a replica URL: litestream replicate DB URL', 2);
      if ((opts.forceSnapshot || opts.enforceRetention) && !opts.once) throw new CliError('-force-snapshot and -enforce-retention only apply with -once', 2);
      const config = db !== undefined && url !== undefined ? await shorthandConfig(registry, db, url) : await readConfig(registry, opts, { requireDatabases: !opts.restoreIfDbNotExists });
      if (config.dbs.length === 0) throw new CliError('the config lists no databases (dbs:)');
      const logger = commandLogger(config.logging, opts.logLevel, collectSecrets(config, url));
      for (const warning of config.warnings) logger.warn(warning);
      await replicate(registry, config, opts, logger);
    });
}

async function replicate(registry: DeferredRegistry, config: LitestreamConfig, opts: ReplicateOptions, logger: Logger): Promise<void> {
  // The engine (better-sqlite3, the LTX codec) loads when replication starts, the metrics
  // (prom-client) only when a config serves them: `replicate --help` needs neither.
  const { Store, defaultMetaPath, enforceRetention, requestReplicaClaim, restoreIfNotExists, writeReplicaSnapshot } = await import('@litestream-ts/core');
  const served = config.addr ? await import('../metrics/index.ts') : undefined;
  const metrics = served ? new served.PrometheusMetrics() : undefined;
  const server = config.addr && served && metrics ? await served.startMetricsServer(config.addr, metrics) : undefined;
  if (server) logger.info('serving metrics on', { url: server.url });
  const clients: ReplicaClient[] = [];
  const databases: StoreDatabase[] = [];
  for (const d of config.dbs) {
    const client = await replicaClientFor(registry, d, logger);
    clients.push(client);
    if (opts.restoreIfDbNotExists || d.restoreIfDbNotExists) {
      const restored = await restoreIfNotExists({ client, outputPath: d.path, logger });
      if (restored) {
        logger.info('restored database before replicating', { db: d.path, txid: restored.txid });
        // Restored from this replica, it continues it, even from another path or host.
        await requestReplicaClaim(d.metaPath ?? defaultMetaPath(d.path));
      }
    }
    databases.push({
      path: d.path,
      replica: client,
      // Metrics label replicas by backend type, as Litestream's dashboards expect.
      replicaName: d.replica.type,
      db: { metaPath: d.metaPath, busyTimeout: d.busyTimeout, minCheckpointPageCount: d.minCheckpointPageCount, checkpointInterval: d.checkpointInterval, truncatePageN: d.truncatePageN },
      ...(d.lease ? { lease: d.lease } : {}),
      // An interval of 0 means "as soon as it changes": the WAL is watched instead of polled.
      watchWal: d.monitorInterval === 0 || d.replica.syncInterval === 0,
      // Re-read and verify what the replica holds (0 or unset: off).
      ...(d.replica.validationInterval !== undefined ? { validationInterval: d.replica.validationInterval } : {}),
    });
  }
  const store = new Store({
    databases,
    // 0 (event-driven) keeps a 1 s tick as a safety net, and a 1 s base for retry backoff.
    monitorInterval: smallestPositive(config.dbs.map((d) => d.monitorInterval)),
    syncInterval: smallestPositive(config.dbs.map((d) => d.replica.syncInterval)),
    levels: config.levels,
    snapshotInterval: config.snapshot.interval,
    snapshotRetention: config.snapshot.retention,
    l0Retention: config.l0Retention,
    shutdownSyncTimeout: config.shutdownSyncTimeout,
    logger,
    ...(metrics ? { metrics } : {}),
    // A lost lease means another process writes the replica now: stop and let a supervisor decide.
    onFatal: () => fatal?.(),
  });
  let fatal: (() => void) | undefined;
  await store.start();

  const shutdown = async (code: number) => {
    await store.stop();
    await server?.close();
    await Promise.all(clients.map((c) => c.close()));
    process.exitCode = code;
  };

  if (opts.once) {
    await store.syncAndWait();
    for (const client of clients) {
      if (opts.forceSnapshot) await writeReplicaSnapshot(client, { logger });
      if (opts.enforceRetention) {
        await enforceRetention(client, { snapshotRetention: config.snapshot.retention, l0Retention: config.l0Retention, levels: config.levels.map((l) => l.level), logger });
      }
    }
    await shutdown(0);
    return;
  }

  const command = opts.exec ?? config.exec;
  const child: ChildProcess | undefined = command ? spawn(command, { shell: true, stdio: 'inherit' }) : undefined;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      void shutdown(code).then(resolve, (err: unknown) => {
        logger.error('shutdown failed', { error: (err as Error).message });
        process.exitCode = 1;
        resolve();
      });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('second signal, exiting immediately', { signal });
        process.exit(1);
      }
      logger.info('signal received, stopping', { signal });
      if (child && child.exitCode === null) child.kill(signal);
      else stop(0);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    fatal = () => {
      if (child && child.exitCode === null) child.kill('SIGTERM');
      stop(1);
    };
    child?.on('error', (err) => {
      logger.error('cannot run -exec command', { error: err.message });
      stop(1);
    });
    child?.on('exit', (code, signal) => {
      logger.info('exec command exited', { code, signal });
      stop(code ?? (signal ? 128 + signalNumber(signal) : 1));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}

function smallestPositive(values: readonly number[]): number {
  const positive = values.filter((v) => v > 0);
  return positive.length > 0 ? Math.min(...positive) : 1000;
}
