/**
 * Follow-mode restore lag: the time from a commit on the primary to the moment a reader of a
 * `litestream restore -f` output sees it. Not a timed test: run by hand (`pnpm bench:follow`).
 *
 * A real `litestream replicate` (sync-interval 1 s, monitor-interval 1 s: Litestream's
 * defaults) ships a primary to a local file replica; a real `litestream restore -f` follows it
 * into OUT with `-follow-interval` (default 1 s, `BENCH_FOLLOW_INTERVALS=1s,250ms` runs
 * several). This process is both the writer and the reader: it makes `BENCH_FOLLOW_COMMITS`
 * (200) isolated commits spaced 250–600 ms at random, stamping the moment each returned, and
 * polls OUT every 2 ms through a read-only connection (`SELECT max(id)`), stamping when each
 * commit first becomes visible. Both stamps come from this process's monotonic clock. Lag
 * percentiles are nearest-rank. Writes the figures to `.bench-data/results-follow-lag.json`
 * and, with `BENCH_WRITE_DOCS=1` (the default), into the "Follow-mode restore lag" section of
 * `docs/BENCHMARKS.md` (between its markers, which `pnpm bench:peer` keeps).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { dataDir, ensureDataDir, repoRoot } from './common.ts';

const BIN = join(repoRoot, 'packages/cli/bin/litestream.js');
const COMMITS = Number(process.env.BENCH_FOLLOW_COMMITS ?? 200);
const INTERVALS = (process.env.BENCH_FOLLOW_INTERVALS ?? '1s').split(',').map((s) => s.trim()).filter(Boolean);
/** Fresh processes each round: the primary's sync and the follower's poll tick with a phase that changes per round. */
const ROUNDS = Number(process.env.BENCH_FOLLOW_ROUNDS ?? 3);
const MIN_GAP_MS = 250;
const MAX_GAP_MS = 600;
const POLL_MS = 2;

interface Run {
  readonly followInterval: string;
  readonly round: number;
  readonly commits: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly lags: readonly number[];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function start(args: readonly string[], log: string[]): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LITESTREAM_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => {
    log.push(d.toString());
    if (log.length > 200) log.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

async function run(followInterval: string, round: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-follow-'));
  const db = join(dir, 'primary.db');
  const replica = join(dir, 'replica');
  const out = join(dir, 'follower', 'replica.db');
  const logs: string[] = [];
  const primary = new Database(db);
  primary.pragma('journal_mode = WAL');
  primary.exec('CREATE TABLE marks (id INTEGER PRIMARY KEY, pad BLOB)');
  primary.prepare('INSERT INTO marks (id, pad) VALUES (0, randomblob(100))').run();
  const config = join(dir, 'litestream.yml');
  writeFileSync(config, `dbs:\n  - path: ${db}\n    monitor-interval: 1s\n    replica:\n      url: file://${replica}\n      sync-interval: 1s\n`);
  const replicate = start(['replicate', '-config', config], logs);
  const follower = start(['restore', '-f', '-follow-interval', followInterval, '-o', out, `file://${replica}`], logs);
  try {
    const deadline = Date.now() + 60_000;
    let reader: Database.Database | undefined;
    while (!reader) {
      if (Date.now() > deadline) throw new Error(`the follower did not restore within 60 s:\n${logs.join('')}`);
      if (existsSync(out)) {
        try {
          reader = new Database(out, { readonly: true, fileMustExist: true, timeout: 1000 });
          reader.prepare('SELECT max(id) AS m FROM marks').get();
        } catch {
          reader?.close();
          reader = undefined;
        }
      }
      await sleep(50);
    }
    const maxId = reader.prepare('SELECT max(id) AS m FROM marks');
    const committedAt = new Map<number, number>();
    const visibleAt = new Map<number, number>();
    let seen = 0;
    let writing = true;
    let lastCommit = performance.now();
    const polling = (async () => {
      while (writing || visibleAt.size < committedAt.size) {
        let m: number;
        try {
          m = (maxId.get() as { m: number }).m;
        } catch {
          await sleep(POLL_MS);
          continue;
        }
        const now = performance.now();
        for (let id = seen + 1; id <= m; id++) if (!visibleAt.has(id)) visibleAt.set(id, now);
        seen = Math.max(seen, m);
        if (!writing && performance.now() - lastCommit > 30_000) throw new Error(`commits not visible 30 s after the last one:\n${logs.join('')}`);
        await sleep(POLL_MS);
      }
    })();
    const insert = primary.prepare('INSERT INTO marks (id, pad) VALUES (?, randomblob(100))');
    await sleep(3000);
    for (let id = 1; id <= COMMITS; id++) {
      await sleep(MIN_GAP_MS + Math.random() * (MAX_GAP_MS - MIN_GAP_MS));
      insert.run(id);
      lastCommit = performance.now();
      committedAt.set(id, lastCommit);
    }
    writing = false;
    await polling;
    reader.close();
    const lags = [...committedAt].map(([id, at]) => visibleAt.get(id)! - at).sort((a, b) => a - b);
    return {
      followInterval,
      round,
      commits: lags.length,
      p50: percentile(lags, 50),
      p90: percentile(lags, 90),
      p99: percentile(lags, 99),
      max: lags[lags.length - 1]!,
      mean: lags.reduce((a, b) => a + b, 0) / lags.length,
      lags: lags.map((l) => Math.round(l * 10) / 10),
    };
  } finally {
    const code = await stop(follower);
    await stop(replicate);
    primary.close();
    if (code !== 0) console.error(`restore -f exited with ${code}:\n${logs.join('')}`);
    rmSync(dir, { recursive: true, force: true });
  }
}

function commitOf(): string {
  try {
    return execFileSync('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const MARK_START = '<!-- follow-lag:begin -->';
const MARK_END = '<!-- follow-lag:end -->';

function section(runs: readonly Run[], loadBefore: readonly number[], loadAfter: readonly number[]): string {
  const ms = (n: number) => `${Math.round(n).toLocaleString('en-US')}`;
  const lines = [
    MARK_START,
    '<!-- Written by `pnpm bench:follow` (bench/src/follow-lag.ts); `pnpm bench:peer` keeps it. -->',
    '## Follow-mode restore lag (`restore -f`)',
    '',
    `Commit on the primary → visible to a reader of the \`litestream restore -f\` output. A real \`litestream replicate\` (sync-interval 1 s, monitor-interval 1 s) ships the primary to a local file replica; a real \`litestream restore -f -follow-interval X\` follows it. The bench process makes ${COMMITS} isolated commits spaced ${MIN_GAP_MS}–${MAX_GAP_MS} ms at random and polls the output every ${POLL_MS} ms through a read-only connection; a commit's lag runs from its return to the first read that sees it (one monotonic clock). Nearest-rank percentiles. Run ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, commit ${commitOf()} (\`dist/\` built from it); load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}.`,
    '',
    '| -follow-interval | round | commits | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | mean (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.followInterval} | ${r.round} | ${r.commits} | **${ms(r.p50)}** | ${ms(r.p90)} | **${ms(r.p99)}** | ${ms(r.max)} | ${ms(r.mean)} |`),
    '',
    'The lag adds the primary\'s wait for its next sync (up to 1 s), the follower\'s wait for its next poll (up to the interval) and the apply itself (list, verify, write under the lock: a few ms for these commits). With equal periods the two waits are not independent: the follower polls at a fixed offset after each upload, an offset each round (fresh processes) draws anew, hence the spread between rounds. Raw lags: `.bench-data/results-follow-lag.json`. Reproduce: `pnpm --filter @litestream-ts/bench run bench:follow` (`BENCH_FOLLOW_INTERVALS=1s,250ms`, `BENCH_FOLLOW_ROUNDS`, `BENCH_FOLLOW_COMMITS`).',
    MARK_END,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(join(repoRoot, 'packages/cli/dist'))) throw new Error('build first: pnpm -r run build (the bench runs the built litestream bin)');
  const loadBefore = loadavg();
  const runs: Run[] = [];
  for (const interval of INTERVALS) for (let round = 1; round <= ROUNDS; round++) {
    const r = await run(interval, round);
    console.log(`-follow-interval ${interval}, round ${round}: ${r.commits} commits, lag p50 ${r.p50.toFixed(0)} ms, p90 ${r.p90.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, max ${r.max.toFixed(0)} ms`);
    runs.push(r);
  }
  const loadAfter = loadavg();
  ensureDataDir();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'results-follow-lag.json'), `${JSON.stringify({ date: new Date().toISOString(), runs, loadBefore, loadAfter }, null, 1)}\n`);
  if ((process.env.BENCH_WRITE_DOCS ?? '1') !== '0') {
    const file = join(repoRoot, 'docs/BENCHMARKS.md');
    const doc = readFileSync(file, 'utf8');
    const text = section(runs, loadBefore, loadAfter);
    const a = doc.indexOf(MARK_START);
    const b = doc.indexOf(MARK_END);
    const next = a >= 0 && b > a ? doc.slice(0, a) + text + doc.slice(b + MARK_END.length) : insertBeforeReproducing(doc, text);
    writeFileSync(file, next);
    console.log(`wrote the section to ${file}`);
  }
}

function insertBeforeReproducing(doc: string, text: string): string {
  const at = doc.indexOf('\n## Reproducing');
  return at < 0 ? `${doc.trimEnd()}\n\n${text}\n` : `${doc.slice(0, at)}\n${text}\n${doc.slice(at)}`;
}

await main();
