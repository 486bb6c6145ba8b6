import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkIntegrity } from '@litestream-ts/core';
import type { FaultCounts, FaultKind, FaultProxy } from '@litestream-ts/testcontainers';
import { AppProcess } from '../../../../core/src/test-support/app-process.ts';
import { rowChainOf } from '../../../../core/src/test-support/workload.ts';
import { litestreamAsync, RunningCli } from '../cli-process.ts';

/** A replica reached through a fault proxy. */
export interface FaultTarget {
  /** The replica URL, pointing at the proxy. */
  readonly url: string;
  /** Credentials for `litestream`, as environment variables. */
  readonly env: Record<string, string>;
  readonly proxy: FaultProxy;
}

/** What {@link replicateUnderFaults} saw. */
export interface FaultRunResult {
  readonly seed: number;
  readonly counts: FaultCounts;
  /** Faults (of the kinds that lose a request or its answer) followed by the same request again. */
  readonly retried: { readonly faults: number; readonly repeated: number; readonly byKind: Readonly<Partial<Record<FaultKind, { faults: number; repeated: number }>>> };
  readonly transactions: number;
  /** From the end of the faults until a restore equalled the writer. */
  readonly convergenceMs: number;
  readonly restoreAttempts: number;
  /** Rows in the writer's table and in the restored one. */
  readonly rows: { readonly writer: number; readonly restored: number };
  readonly integrity: string;
  /** How `replicate` ended after SIGTERM. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null };
  /**
   * The longest time maintenance (compaction, snapshots, retention) kept failing: from a
   * `maintenance error` to the next `maintenance resumed` (or the end of the log). Later
   * failures of a streak are not logged, so this is the only way to see a long one.
   */
  readonly longestMaintenanceOutageMs: number;
  /** `msg="…"` lines of interest in `replicate`'s log, counted. */
  readonly logged: Readonly<Record<string, number>>;
  readonly log: string;
}

/** Settings of one run. */
export interface FaultRunOptions {
  readonly dir: string;
  readonly name: string;
  /** How long the writer commits while faults are injected. */
  readonly faultMs: number;
  readonly rate: number;
  /** Commits per second of the writer. */
  readonly txnPerSecond: number;
  /** A restore must equal the writer within this long after the faults stop. */
  readonly convergeWithinMs: number;
}

const LOGGED = ['sync error', 'sync resumed', 'maintenance error', 'maintenance resumed', 'writing a full database image', 'final sync failed', 'snapshot written'];

/**
 * Runs the real `litestream replicate` against `target` while a writer process commits and the
 * proxy faults `rate` of the requests, then stops the faults and restores (the real bin) until
 * the restore equals the writer's database byte for byte, and checks it with
 * `PRAGMA integrity_check`. Short intervals everywhere, so compaction, snapshots and retention
 * (GET, LIST, DELETE) run under faults too, not only uploads.
 */
export async function replicateUnderFaults(target: FaultTarget, options: FaultRunOptions): Promise<FaultRunResult> {
  const db = join(options.dir, `${options.name}.db`);
  const app = new AppProcess(db);
  let cli: RunningCli | undefined;
  try {
    await app.insert(20, 500);
    const config = join(options.dir, `${options.name}.yml`);
    await writeFile(
      config,
      [
        'levels:',
        '  - interval: 5s',
        '  - interval: 20s',
        'snapshot:',
        '  interval: 30s',
        '  retention: 1h',
        'l0-retention: 10s',
        'dbs:',
        `  - path: ${db}`,
        '    monitor-interval: 100ms',
        '    checkpoint-interval: 10s',
        '    min-checkpoint-page-count: 200',
        '    replica:',
        `      url: ${JSON.stringify(target.url)}`,
        '      sync-interval: 250ms',
        '',
      ].join('\n'),
    );
    cli = new RunningCli(['replicate', '-config', config], { env: target.env });
    await cli.waitFor('snapshot written');
    target.proxy.setRate(options.rate);
    const transactions = await app.steady(options.txnPerSecond, options.faultMs);
    target.proxy.setRate(0);
    const faultsEnded = Date.now();
    const expected = await app.hash();
    const writerRows = (await app.request<{ count: number }>({ op: 'count' })).count;

    // Restore (through the proxy, now passing everything) until the replica has caught up.
    const out = join(options.dir, `${options.name}-restored.db`);
    let attempts = 0;
    let converged = false;
    while (!converged && Date.now() - faultsEnded < options.convergeWithinMs) {
      attempts += 1;
      await rm(out, { force: true });
      const r = await litestreamAsync(['restore', '-o', out, '-integrity-check', 'full', target.url], { env: target.env });
      converged = r.status === 0 && (await sha256(out)) === expected;
      if (!converged) await sleep(500);
    }
    const convergenceMs = Date.now() - faultsEnded;
    const restored = converged ? await inspect(out) : { rows: -1, integrity: 'not restored' };

    cli.child.kill('SIGTERM');
    const exit = await cli.exited;
    const log = cli.stdout + cli.stderr;
    // LTS_FAULT_LOG_DIR=dir keeps each run's replicate log there, to read after a green run too.
    if (process.env.LTS_FAULT_LOG_DIR) await writeFile(join(process.env.LTS_FAULT_LOG_DIR, `${options.name}-replicate.log`), log);
    return {
      seed: target.proxy.seed,
      counts: target.proxy.counts(),
      retried: retries(target.proxy),
      transactions,
      convergenceMs: converged ? convergenceMs : Infinity,
      restoreAttempts: attempts,
      rows: { writer: writerRows, restored: restored.rows },
      integrity: restored.integrity,
      exit,
      longestMaintenanceOutageMs: longestOutage(log, 'maintenance error', 'maintenance resumed'),
      logged: Object.fromEntries(LOGGED.map((msg) => [msg, log.split(`msg="${msg}"`).length - 1])),
      log,
    };
  } finally {
    if (cli && cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await app.close();
  }
}

async function sha256(path: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Rows in the restored table (ids are dense: the writer only inserts) and SQLite's own check. */
async function inspect(path: string): Promise<{ rows: number; integrity: string }> {
  const rows = rowChainOf(path).maxId;
  const integrity = await checkIntegrity(path, 'full').then(
    () => 'ok',
    (err: Error) => err.message,
  );
  return { rows, integrity };
}

// Faults after which the client has no answer (or a lost one) and must send the request again.
const LOSING: readonly FaultKind[] = ['reset', 'stall', 'truncate', 'status-500', 'status-503', 'slowdown'];

/** For each losing fault: did the same request (method, path and query) arrive again later? */
function retries(proxy: FaultProxy): FaultRunResult['retried'] {
  const arrivals = proxy.arrivals();
  const byKind: Partial<Record<FaultKind, { faults: number; repeated: number }>> = {};
  let faults = 0;
  let repeated = 0;
  const lastSeen = new Map<string, number>();
  arrivals.forEach((a, i) => lastSeen.set(a.what, i));
  arrivals.forEach((a, i) => {
    if (!a.kind || !LOSING.includes(a.kind)) return;
    const entry = (byKind[a.kind] ??= { faults: 0, repeated: 0 });
    entry.faults += 1;
    faults += 1;
    if (lastSeen.get(a.what)! > i) {
      entry.repeated += 1;
      repeated += 1;
    }
  });
  return { faults, repeated, byKind };
}

/** The longest span in `log` from a `failed` line to the next `resumed` line (or the last line). */
export function longestOutage(log: string, failed: string, resumed: string): number {
  let longest = 0;
  let since: number | undefined;
  let last = 0;
  for (const line of log.split('\n')) {
    const time = /^time=(\S+)/.exec(line)?.[1];
    if (!time) continue;
    last = Date.parse(time);
    if (line.includes(`msg="${failed}"`)) since ??= last;
    else if (line.includes(`msg="${resumed}"`) && since !== undefined) {
      longest = Math.max(longest, last - since);
      since = undefined;
    }
  }
  return since === undefined ? longest : Math.max(longest, last - since);
}

/** A one-line summary for the test's output. */
export function describeRun(name: string, r: FaultRunResult): string {
  const faults = Object.entries(r.counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return `[faults ${name}] seed=${r.seed} ${faults} | retried ${r.retried.repeated}/${r.retried.faults} | txns=${r.transactions} rows=${r.rows.writer} | converged in ${r.convergenceMs} ms after ${r.restoreAttempts} restore(s) | maintenance failing for ${r.longestMaintenanceOutageMs} ms at most | log ${JSON.stringify(r.logged)}`;
}
