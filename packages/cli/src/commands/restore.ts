import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger, ReplicaClient, RestoreTarget, V03RestorePlan } from '@litestream-ts/core';
import { InvalidArgumentError, type Command } from 'commander';
import { findDatabase, isReplicaURL, readConfig, replicaClientFor } from '../context.ts';
import { CliError } from '../cli-error.ts';
import type { DeferredRegistry } from '../deferred-registry.ts';
import { createProgress } from '../progress/index.ts';
import { commandLogger } from '../runtime.ts';
import { collectSecrets } from '../secrets.ts';
import { formatBytes, printJSON } from '../output.ts';

interface RestoreCommandOptions {
  config?: string;
  expandEnv?: boolean;
  o?: string;
  txid?: number;
  timestamp?: Date;
  ifDbNotExists?: boolean;
  ifReplicaExists?: boolean;
  parallelism: number;
  dryRun?: boolean;
  force?: boolean;
  integrityCheck: 'none' | 'quick' | 'full';
  json?: boolean;
  logLevel?: string;
  f?: boolean;
  followInterval: string;
}

export function registerRestore(program: Command, registry: DeferredRegistry): void {
  program
    .command('restore')
    .summary('restore a database from its replica')
    .description(
      'Restores the latest state, or the state at -txid or -timestamp, from the replica of a configured database or from a replica URL. ' +
        'Replicas written by Litestream v0.3 (generations/…) are restored too, on every backend but NATS; when a replica holds both, the newest data for the target wins. ' +
        'The output is built in a hidden directory beside it (.<name>.restore-<pid>-<random>), verified, and renamed into place. ' +
        'SIGINT, SIGTERM or SIGHUP stop the restore and remove that directory; one left by a killed restore of the same output is removed by the next restore. ' +
        'With -f (follow) the output stays a read replica: after the restore, new LTX files are applied to it every -follow-interval as they arrive, in place, under SQLite\'s lock, ' +
        'so other processes can read it (read-only) and never see half a transaction; compactions, snapshots and a primary that restarts from a new snapshot are followed, ' +
        'an unreachable replica is retried, and SIGINT or SIGTERM stop following with exit code 0 and the output consistent.',
    )
    .argument('<source>', 'a database path from the config, or a replica URL')
    .option('--config <path>', 'config file (default: $LITESTREAM_CONFIG or /etc/litestream.yml)')
    .option('-o <path>', 'output database path (default: the database path; required with a replica URL)')
    .option('--txid <txid>', 'restore up to this TXID (16 hex digits or decimal)', parseTxid)
    .option('--timestamp <time>', 'restore to the latest state at or before this time (RFC 3339, e.g. 2026-01-02T03:04:05Z)', parseTimestamp)
    .option('--if-db-not-exists', 'do nothing (exit 0) if the output database already exists')
    .option('--if-replica-exists', 'do nothing (exit 0) if the replica holds no backup')
    .option('--parallelism <n>', 'files (or v0.3 objects) downloaded at once', parsePositive, 8)
    .option('--dry-run', 'print the plan (files, sizes, resulting TXID) and restore nothing')
    .option('--force', 'replace an existing output database (with -f, an output a follower wrote is brought up to date in place)')
    .option('--integrity-check <mode>', 'none, quick or full PRAGMA check of the result', parseCheck, 'none')
    .option('-f', 'follow: after restoring, keep applying new changes to the output (a read replica); not with -txid, -timestamp or -dry-run')
    .option('--follow-interval <duration>', 'with -f, how often the replica is polled (Go duration, e.g. 500ms, 1s)', '1s')
    .option('--json', 'print the result (or plan) as JSON')
    .option('--log-level <level>', 'trace, debug, info, warn or error')
    .option('--no-expand-env', 'do not expand $VAR and ${VAR} in the config file')
    .action(async (source: string, opts: RestoreCommandOptions) => {
      // Core (LTX codec, checksums, LZ4) loads when a restore runs, not for `--help`.
      const { NoBackupsError, formatTXID, ltxFileLabel, planReplicaRestore, restore, restoreV03 } = await import('@litestream-ts/core');
      if (opts.txid !== undefined && opts.timestamp !== undefined) throw new CliError('use -txid or -timestamp, not both', 2);
      if (opts.f && (opts.txid !== undefined || opts.timestamp !== undefined)) throw new CliError('follow mode (-f) always follows the latest state: it cannot be used with -txid or -timestamp', 2);
      if (opts.f && opts.dryRun) throw new CliError('-dry-run cannot be used with -f', 2);
      let client: ReplicaClient;
      let output: string;
      let secrets: string[];
      let logging;
      if (isReplicaURL(source)) {
        if (!opts.o) throw new CliError('restoring from a replica URL needs an output path: -o PATH', 2);
        client = await registry.fromURL(source);
        output = resolve(opts.o);
        secrets = collectSecrets(undefined, source);
      } else {
        const config = await readConfig(registry, opts, { requireDatabases: false });
        const db = await findDatabase(config, source, registry);
        logging = config.logging;
        secrets = collectSecrets(config);
        client = await replicaClientFor(registry, db, commandLogger(logging, opts.logLevel, secrets, { forceStderr: true }));
        output = opts.o ? resolve(opts.o) : db.path;
      }
      const logger = commandLogger(logging, opts.logLevel, secrets, { forceStderr: true });
      try {
        if (opts.ifDbNotExists && existsSync(output)) {
          logger.info('database already exists, skipping restore', { db: output });
          return;
        }
        if (opts.f) {
          await runFollow(client, output, opts, logger);
          return;
        }
        const target: RestoreTarget = { ...(opts.txid !== undefined ? { txid: opts.txid } : {}), ...(opts.timestamp ? { timestamp: opts.timestamp } : {}) };
        let chosen;
        try {
          // LTX files, Litestream v0.3 generations, or both: the newest data for the target wins.
          chosen = await planReplicaRestore(client, target);
        } catch (err) {
          if (opts.ifReplicaExists && err instanceof NoBackupsError) {
            logger.info('no backups found, skipping restore', { db: output });
            return;
          }
          throw err;
        }
        if (chosen.format === 'v0.3' && opts.dryRun) {
          printV03Plan(chosen.plan, output, opts.json === true);
          return;
        }
        if (chosen.format === 'ltx' && opts.dryRun) {
          const plan = chosen.plan;
          const files = plan.files.map((f) => ({ file: ltxFileLabel(f), level: f.level, minTXID: formatTXID(f.minTXID), maxTXID: formatTXID(f.maxTXID), size: f.size, createdAt: f.createdAt.toISOString() }));
          if (opts.json) printJSON({ output, format: 'ltx', txid: formatTXID(plan.txid), size: plan.size, files });
          else {
            process.stdout.write(`restore plan for ${output}: ${files.length} file(s), ${formatBytes(plan.size)}, resulting TXID ${formatTXID(plan.txid)}\n`);
            for (const f of files) process.stdout.write(`  ${f.file.padEnd(40)} ${formatBytes(f.size).padStart(10)}  ${f.createdAt}\n`);
          }
          return;
        }
        // The bar appears with the first downloaded bytes, so a restore refused up front
        // (existing output, bad plan) prints nothing but its error.
        let progress: ReturnType<typeof createProgress> | undefined;
        let result;
        let v03;
        // SIGINT, SIGTERM or SIGHUP stop the restore and remove its partial files; a second signal exits at once.
        const interrupt = new AbortController();
        const onSignal = (signal: NodeJS.Signals) => {
          if (interrupt.signal.aborted) process.exit(exitCodeOf(signal));
          interrupt.abort(new RestoreInterrupted(signal));
        };
        for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
        try {
          const common = {
            client,
            outputPath: output,
            signal: interrupt.signal,
            integrityCheck: opts.integrityCheck,
            overwrite: opts.force ?? false,
            // The progress logger clears the bar before a log line and redraws it after.
            logger: {
              trace: (m, f) => (progress?.logger ?? logger).trace(m, f),
              debug: (m, f) => (progress?.logger ?? logger).debug(m, f),
              info: (m, f) => (progress?.logger ?? logger).info(m, f),
              warn: (m, f) => (progress?.logger ?? logger).warn(m, f),
              error: (m, f) => (progress?.logger ?? logger).error(m, f),
              child: (f) => (progress?.logger ?? logger).child(f),
            } satisfies Logger,
            onProgress: (done: number, total: number) => {
              progress ??= createProgress({ label: 'restore', total, stream: process.stderr, logger });
              progress.update(done, total);
            },
          };
          if (chosen.format === 'v0.3') v03 = await restoreV03({ ...common, plan: chosen.plan, parallelism: opts.parallelism });
          else result = await restore({ ...common, ...target, plan: chosen.plan, parallelism: opts.parallelism });
        } catch (err) {
          if (err instanceof RestoreInterrupted) throw new CliError(`restore of ${output} interrupted by ${err.signal}; its partial files were removed`, exitCodeOf(err.signal));
          throw err;
        } finally {
          for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
          progress?.stop();
        }
        if (v03) {
          const where = `Litestream v0.3 generation ${v03.generation}, WAL index ${v03.index} offset ${v03.offset}`;
          if (opts.json) printJSON({ output, format: 'v0.3', generation: v03.generation, index: v03.index, offset: v03.offset, files: v03.files, bytes: v03.bytes, durationMs: Math.round(v03.durationMs) });
          else process.stdout.write(`restored ${output} from ${where}, ${v03.files} object(s) (${formatBytes(v03.bytes)}) in ${(v03.durationMs / 1000).toFixed(1)}s\n`);
          return;
        }
        result = result!;
        if (opts.json) printJSON({ output, format: 'ltx', txid: formatTXID(result.txid), files: result.files, bytes: result.bytes, durationMs: Math.round(result.durationMs) });
        else process.stdout.write(`restored ${output} to TXID ${formatTXID(result.txid)} from ${result.files} file(s) (${formatBytes(result.bytes)}) in ${(result.durationMs / 1000).toFixed(1)}s\n`);
      } finally {
        await client.close();
      }
    });
}

/** `restore -f`: restores, then follows the replica until SIGINT, SIGTERM or SIGHUP (exit 0). */
async function runFollow(client: ReplicaClient, output: string, opts: RestoreCommandOptions, logger: Logger): Promise<void> {
  const { NoBackupsError, followRestore, formatTXID, parseDuration, planRestore } = await import('@litestream-ts/core');
  let intervalMs: number;
  try {
    intervalMs = parseDuration(opts.followInterval);
  } catch (err) {
    throw new CliError(`invalid -follow-interval ${JSON.stringify(opts.followInterval)}: ${(err as Error).message}`, 2);
  }
  if (!(intervalMs > 0)) throw new CliError(`invalid -follow-interval ${JSON.stringify(opts.followInterval)}: it must be positive`, 2);
  if (opts.ifReplicaExists) {
    try {
      await planRestore(client);
    } catch (err) {
      if (!(err instanceof NoBackupsError)) throw err;
      logger.info('no backups found, skipping restore', { db: output });
      return;
    }
  }
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal does not wait for the follower to finish its step.
    if (stop.signal.aborted) process.exit(exitCodeOf(signal));
    logger.info('stopping follow mode', { signal, output });
    stop.abort(new RestoreInterrupted(signal));
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    const result = await followRestore({
      client,
      outputPath: output,
      signal: stop.signal,
      intervalMs,
      overwrite: opts.force ?? false,
      parallelism: opts.parallelism,
      integrityCheck: opts.integrityCheck,
      logger,
    });
    const txid = result.txid === undefined ? null : formatTXID(result.txid);
    if (opts.json) printJSON({ output, follow: true, txid, applied: result.applied, restores: result.restores });
    else process.stdout.write(`stopped following ${output} at TXID ${txid ?? 'none (nothing restored yet)'}: ${result.applied} file(s) applied, ${result.restores} restore(s)\n`);
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** A shell's exit code for a process ended by each signal (128 + its number). */
const SIGNAL_EXIT: Readonly<Record<(typeof STOP_SIGNALS)[number], number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const exitCodeOf = (signal: NodeJS.Signals): number => SIGNAL_EXIT[signal as (typeof STOP_SIGNALS)[number]] ?? 1;

/** The reason a restore was aborted with: a stop signal arrived. */
class RestoreInterrupted extends Error {
  readonly signal: NodeJS.Signals;
  constructor(signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

/** Prints a v0.3 plan: the snapshot and WAL segments it reads, and the time of the state. */
function printV03Plan(plan: V03RestorePlan, output: string, json: boolean): void {
  const files = [
    { file: plan.snapshot.path, kind: 'snapshot', index: plan.snapshot.index, size: plan.snapshot.size, createdAt: plan.snapshot.createdAt.toISOString() },
    ...plan.segments.map((s) => ({ file: s.path, kind: 'wal', index: s.index, offset: s.offset, size: s.size, createdAt: s.createdAt.toISOString() })),
  ];
  if (json) {
    printJSON({ output, format: 'v0.3', generation: plan.generation, size: plan.size, timestamp: plan.timestamp.toISOString(), files });
    return;
  }
  process.stdout.write(
    `restore plan for ${output} (Litestream v0.3 backup): generation ${plan.generation}, snapshot at WAL index ${plan.snapshot.index}, ${plan.segments.length} WAL segment(s), ${formatBytes(plan.size)}, state as of ${plan.timestamp.toISOString()}\n`,
  );
  for (const f of files) process.stdout.write(`  ${f.file.padEnd(64)} ${formatBytes(f.size).padStart(10)}  ${f.createdAt}\n`);
}

function parseTxid(value: string): number {
  if (/^[0-9a-f]{16}$/.test(value)) return Number.parseInt(value, 16);
  if (/^[0-9]+$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value))) return Number(value);
  throw new InvalidArgumentError('expected a TXID: 16 hex digits or a positive decimal number');
}

function parseTimestamp(value: string): Date {
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an RFC 3339 time such as 2026-01-02T03:04:05Z');
  return date;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function parseCheck(value: string): 'none' | 'quick' | 'full' {
  if (value === 'none' || value === 'quick' || value === 'full') return value;
  throw new InvalidArgumentError('expected none, quick or full');
}
