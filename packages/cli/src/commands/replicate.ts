import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger, ReplicaClient, Store, StoreDatabase } from '@litestream-ts/core';
import type { Command } from 'commander';
import type { DatabaseConfig, LitestreamConfig } from '../config/index.ts';
import { readConfig, replicaClientFor, shorthandConfig } from '../context.ts';
import { CliError } from '../cli-error.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { commandLogger } from '../runtime.ts';
import { collectSecrets } from '../secrets.ts';
import type { ReplicateServices } from './replicate-services.ts';
import { storeDatabase } from './store-database.ts';

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
      'Replicates every database of the config file (with those found under its "dir" entries), or one database given as DB URL, until stopped by SIGINT/SIGTERM ' +
        '(which runs a final sync within shutdown-sync-timeout) or until the -exec command exits. A replica that cannot be ' +
        'reached is retried with backoff (logged as "sync error") while commits are staged locally. Exits 1 when the final ' +
        'sync did not complete; with -once, exits 1 as soon as the sync fails.\n\n' +
        'With socket.enabled in the config, serves a control socket for list, info, sync, start, stop, register and unregister; with ' +
        'heartbeat-url, pings it every heartbeat-interval while every database syncs.',
    )
    .argument('[db]', 'database path (shorthand form, with replica-url)')
    .argument('[replica-url]', 'replica URL, e.g. file:///backups/app or s3://bucket/path')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('--exec <command>', 'run this command as a child; stop replicating when it exits and exit with its code')
    .option('--once', 'sync every database once, then exit (status 1 and the error when it fails)')
    .option('--force-snapshot', 'with -once: also write a level-9 snapshot')
    .option('--enforce-retention', 'with -once: also enforce snapshot and L0 retention')
    .option('--restore-if-db-not-exists', 'restore a missing database from its replica before replicating')
    .option('--log-level <level>', 'trace, debug, info, warn or error (overrides logging.level)')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (db: string | undefined, url: string | undefined, opts: ReplicateOptions) => {
      if (db !== undefined && url === undefined) throw new CliError('the shorthand form needs both a database path and a replica URL: litestream replicate DB URL', 2);
      if ((opts.forceSnapshot || opts.enforceRetention) && !opts.once) throw new CliError('-force-snapshot and -enforce-retention only apply with -once', 2);
      const config = db !== undefined && url !== undefined ? await shorthandConfig(registry, db, url) : await readConfig(registry, opts, { requireDatabases: !opts.restoreIfDbNotExists });
      // With a control socket, databases can come later (litestream register).
      const registerLater = config.socket?.enabled === true && !opts.once;
      if (config.dbs.length === 0 && config.dirs.length === 0 && !registerLater) throw new CliError('the config lists no databases (dbs:)');
      const logger = commandLogger(config.logging, opts.logLevel, collectSecrets(config, url));
      for (const warning of config.warnings) logger.warn(warning);
      if (config.dbs.length === 0 && config.dirs.length === 0) logger.warn('the config lists no databases; add them with litestream register');
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
  let store: Store | undefined;
  // The control socket (bound before any database opens) and heartbeat pings, when configured.
  const extras = opts.once ? undefined : await import('./replicate-services.ts');
  let services: ReplicateServices | undefined;
  let directories: DirectoryReplication | undefined;
  let mcp: { readonly url: string; close(): Promise<void> } | undefined;
  // Whatever happens, nothing of ours may keep the process alive once the command is over.
  const release = async (): Promise<void> => {
    await services?.close();
    await mcp?.close();
    await server?.close();
    await closeClients([...clients, ...(directories?.clients() ?? [])], logger);
  };
  let fatal: (() => void) | undefined;
  try {
    services = await extras?.openServices(config, logger);
    // The MCP SDK (and its HTTP stack) loads only for a config that asks for it, and before any
    // database opens: a missing SDK is an error that says what to install.
    const mcpModule = config.mcpAddr && !opts.once ? await (await import('../mcp/load-mcp.ts')).loadMcp() : undefined;
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
      databases.push(storeDatabase(d, client));
    }
    // The settings of `dir` entries count too: their databases join the store once found.
    const settings = [...config.dbs, ...config.dirs];
    store = new Store({
      databases,
      // 0 (event-driven) keeps a 1 s tick as a safety net, and a 1 s base for retry backoff.
      monitorInterval: smallestPositive(settings.map((d) => d.monitorInterval)),
      syncInterval: smallestPositive(settings.map((d) => d.replica.syncInterval)),
      levels: config.levels,
      snapshotInterval: config.snapshot.interval,
      snapshotRetention: config.snapshot.retention,
      l0Retention: config.l0Retention,
      retention: config.retention,
      ...(config.l0RetentionCheckInterval !== undefined ? { l0RetentionCheckInterval: config.l0RetentionCheckInterval } : {}),
      shutdownSyncTimeout: config.shutdownSyncTimeout,
      logger,
      ...(metrics ? { metrics } : {}),
      // A lost lease means another process writes the replica now: stop and let a supervisor decide.
      onFatal: () => fatal?.(),
    });
    // A replica that cannot be reached does not fail this: the store logs it and retries.
    await store.start();
    if (!config.retention) {
      logger.warn('retention disabled: nothing is deleted from the replicas, so their storage lifecycle rules must expire old files', {
        hint: 'a database that stops receiving writes gets no new snapshot; a lifecycle rule shorter than its age can leave it without a restorable backup',
      });
    }
    if (config.dirs.length > 0) directories = await startDirectoryReplication(registry, config, store, logger);
    services?.serve({ store, databases, registry, clients, closeClients: (c) => closeClients(c, logger) });
    if (mcpModule && config.mcpAddr) {
      const { startMcpServer } = mcpModule;
      const running = store;
      const served = config.dbs.map((d, i) => ({ path: d.path, replicaType: d.replica.type, client: clients[i]! }));
      // The store's databases as they are now (one removed at run time is no longer served).
      const current = () => {
        const paths = new Set(running.paths());
        return served.filter((d) => paths.has(d.path));
      };
      mcp = await startMcpServer(config.mcpAddr, { databases: current, syncStatus: () => running.syncStatus() }, logger);
      logger.info('serving MCP on', { url: mcp.url });
    }
  } catch (err) {
    await directories?.close();
    await store?.stop({ timeout: 0 }).catch(() => {});
    await release();
    throw err;
  }

  if (opts.once) {
    // Every database of the directories is in the store, and synced once, before the sync.
    await directories?.settled();
    await directories?.close();
    await replicateOnce(store, [...clients, ...(directories?.clients() ?? [])], config, opts, logger, { enforceRetention, writeReplicaSnapshot });
    await release();
    return;
  }

  const command = opts.exec ?? config.exec;
  const child: ChildProcess | undefined = command ? spawn(command, { shell: true, stdio: 'inherit' }) : undefined;
  const running = store;
  // Resolves with the exit code: the given one, or 1 when the final sync did not complete.
  const shutdown = async (code: number): Promise<number> => {
    // Every storage call is aborted at shutdown-sync-timeout; this only guards against the
    // unforeseen, so a supervisor's SIGTERM always ends the process.
    const guard = setTimeout(() => {
      logger.error('shutdown did not finish in time, exiting', { after: `${Math.round((config.shutdownSyncTimeout + SHUTDOWN_GRACE_MS) / 1000)}s` });
      process.exit(1);
    }, config.shutdownSyncTimeout + SHUTDOWN_GRACE_MS);
    guard.unref();
    let exit = code;
    // No control command may act on databases being stopped.
    await services?.close();
    try {
      // No database joins or leaves once stopping began; the store's stop syncs them all.
      await directories?.close();
      await running.stop();
    } catch {
      // Each database whose replica lacks commits was logged ("final sync incomplete").
      exit = exit === 0 ? 1 : exit;
    }
    await release();
    return exit;
  };
  process.exitCode = await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number) => {
      if (stopping) return;
      stopping = true;
      void shutdown(code).then(resolve, (err: unknown) => {
        logger.error('shutdown failed', { error: (err as Error).message });
        resolve(1);
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

/** The `dir` entries of a running `replicate`, with the replica clients of their databases. */
interface DirectoryReplication {
  settled(): Promise<void>;
  close(): Promise<void>;
  clients(): ReplicaClient[];
}

/** Finds the databases of every `dir` entry and adds them to the store (see directories/). */
async function startDirectoryReplication(registry: DeferredRegistry, config: LitestreamConfig, store: Store, logger: Logger): Promise<DirectoryReplication> {
  const { startDirectories, storeHost } = await import('../directories/index.ts');
  const host = storeHost(store, { clientFor: (d) => replicaClientFor(registry, d, logger), storeDatabase, logger });
  try {
    const running = await startDirectories(config, { registry: await registry.get(), host, logger });
    return { settled: () => running.settled(), close: () => running.close(), clients: () => host.clients() };
  } catch (err) {
    await closeClients(host.clients(), logger);
    throw new CliError((err as Error).message);
  }
}

/** After a final sync, the process gets this long beyond shutdown-sync-timeout to wind down. */
const SHUTDOWN_GRACE_MS = 10_000;

/**
 * `-once`: one sync of every database (and the optional snapshot and retention), then a stop.
 * Any failure stops the store at once, without a final sync that would only fail again, and
 * ends the command with status 1 and the error. Every storage call is bounded by the request
 * timeout, so this never waits for long on a store that does not answer.
 */
async function replicateOnce(
  store: Store,
  clients: readonly ReplicaClient[],
  config: LitestreamConfig,
  opts: ReplicateOptions,
  logger: Logger,
  core: Pick<typeof import('@litestream-ts/core'), 'enforceRetention' | 'writeReplicaSnapshot'>,
): Promise<void> {
  try {
    await store.syncAndWait();
    if (opts.enforceRetention && !config.retention) logger.warn('retention.enabled is false: -enforce-retention deletes nothing');
    for (const client of clients) {
      if (opts.forceSnapshot) await core.writeReplicaSnapshot(client, { logger });
      if (opts.enforceRetention && config.retention) {
        await core.enforceRetention(client, { snapshotRetention: config.snapshot.retention, l0Retention: config.l0Retention, levels: config.levels.map((l) => l.level), logger });
      }
    }
  } catch (err) {
    await store.stop({ timeout: 0 }).catch(() => {});
    throw new CliError(`replicate -once failed: ${(err as Error).message}`);
  }
  await store.stop();
}

/** Closes every client, each within a few seconds (a client of a frozen store may never finish). */
async function closeClients(clients: readonly ReplicaClient[], logger: Logger): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn('replica client did not close in time', { type: client.type });
          resolve();
        }, CLOSE_TIMEOUT_MS);
      });
      await Promise.race([client.close().catch((err: Error) => logger.warn('replica client close failed', { type: client.type, error: err.message })), late]);
      clearTimeout(timer);
    }),
  );
}

const CLOSE_TIMEOUT_MS = 5_000;

function signalNumber(signal: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal] ?? 1;
}

function smallestPositive(values: readonly number[]): number {
  const positive = values.filter((v) => v > 0);
  return positive.length > 0 ? Math.min(...positive) : 1000;
}
