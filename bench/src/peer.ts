/**
 * `pnpm bench:peer`: litestream-ts side by side with Litestream v0.3.13 (issue 9), both
 * replicating to a local file replica, alternating (ours, peer, ours, peer, …) for
 * BENCH_ROUNDS rounds (default 3). Figures (one module each under peer/scenarios/):
 *
 *   steady    200 MB database, ~100 small transactions/s for 20 s: CPU, replica bytes, full images
 *   idle      1, 100, 1000 idle databases with a -wal file: CPU, storage requests, log lines
 *   fresh     100 freshly started databases: CPU over the first 60 s
 *   restore   600 MB database: one snapshot, and snapshot + K incremental files
 *   snapshot  initial snapshot of a 1 GB database (time, peak RSS), and its restore
 *   writer    writer throughput kept while replicating (vs no replication)
 *   lag       commit → replica lag of isolated commits (p50/p90/p99/max, CDF)
 *   version   `litestream version` of ours (from bench/src/startup.ts)
 *
 * `node bench/src/peer.ts restore lag` runs only those. BENCH_QUICK=1 shrinks everything for a
 * run of a few minutes. Results: a console summary, `.bench-data/results-peer.json`, and (for a
 * full run, or BENCH_DOCS=1) `docs/BENCHMARKS.md` with `docs/benchmarks/*.svg`.
 */
import { execFileSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { cpuModel, dataDir, ensureDataDir } from './common.ts';
import { installCleanup } from './peer/proc.ts';
import { consoleSummary, writeDocs, type RunInfo } from './peer/report.ts';
import { runScenario, type Scenario, type ScenarioResult } from './peer/scenario.ts';
import { fresh } from './peer/scenarios/fresh.ts';
import { idle } from './peer/scenarios/idle.ts';
import { lag } from './peer/scenarios/lag.ts';
import { restore } from './peer/scenarios/restore.ts';
import { snapshot } from './peer/scenarios/snapshot.ts';
import { steady } from './peer/scenarios/steady.ts';
import { version } from './peer/scenarios/version.ts';
import { writerKept } from './peer/scenarios/writer-kept.ts';
import { settings } from './peer/settings.ts';
import { OURS_BIN, ours, peer } from './peer/tools.ts';

const ALL: Scenario[] = [steady, idle, fresh, restore, snapshot, writerKept, lag, version];

/** Git, in the checkout the measured bin comes from (this one, or BENCH_OURS_BIN's). */
function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: dirname(OURS_BIN), encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** When the CLI's dist/ was built (what actually runs), from its entry module's mtime. */
function builtAt(): string {
  try {
    return statSync(join(OURS_BIN, '..', '..', 'dist', 'main.js')).mtime.toISOString();
  } catch {
    return 'unknown';
  }
}

function uname(): string {
  try {
    return execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !ALL.some((s) => s.id === n));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(', ')}; choose from: ${ALL.map((s) => s.id).join(', ')}`);
    process.exit(2);
  }
  const chosen = names.length === 0 ? ALL : ALL.filter((s) => names.includes(s.id));
  installCleanup();
  ensureDataDir();
  const started = new Date();
  const dirty = git(['status', '--porcelain', '--', ':/packages', ':/backends']);
  const info: RunInfo = {
    date: started.toISOString(),
    cpuModel: cpuModel(),
    cores: cpus().length,
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    kernel: uname(),
    oursVersion: ours.version(),
    peerVersion: peer.version(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    oursBin: OURS_BIN,
    oursBuilt: builtAt(),
    dirtyFiles: dirty ? dirty.split('\n').length : 0,
    loadBefore: loadavg(),
    loadAfter: [],
    rounds: settings.rounds,
    settings,
    scenarios: chosen.map((s) => s.id),
    seconds: 0,
  };
  const log = (msg: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
  log(`peer comparison: ${info.oursVersion} vs ${info.peerVersion}; ${settings.rounds} round(s); scenarios: ${info.scenarios.join(' ')}${settings.quick ? ' (BENCH_QUICK)' : ''}`);
  log(`load average ${info.loadBefore.map((x) => x.toFixed(2)).join(' ')}; ours = ${info.commit}${info.dirtyFiles ? ` + ${info.dirtyFiles} uncommitted file(s) in packages/ backends/` : ''} (the built dist/ is what runs)`);
  const results: ScenarioResult[] = [];
  for (const s of chosen) results.push(await runScenario(s, settings.rounds, log));
  info.loadAfter = loadavg();
  info.seconds = (Date.now() - started.getTime()) / 1000;

  const jsonPath = join(dataDir, 'results-peer.json');
  writeFileSync(jsonPath, JSON.stringify({ kind: 'litestream-ts vs Litestream v0.3.13', info, results }, null, 2) + '\n');
  console.log(consoleSummary(info, results));
  console.log(`\nresults: ${jsonPath}`);
  const full = chosen.length === ALL.length && !settings.quick;
  const docs = process.env.BENCH_DOCS === '1' || (process.env.BENCH_DOCS !== '0' && full);
  if (docs) console.log(`report: ${writeDocs(info, results)}`);
  else console.log('docs/BENCHMARKS.md not written (only a full run writes it; BENCH_DOCS=1 forces it)');
  if (results.some((r) => r.error)) {
    console.error(`FAILED: ${results.filter((r) => r.error).map((r) => r.id).join(', ')}`);
    process.exitCode = 1;
  }
}

await main();
