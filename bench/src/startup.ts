/**
 * `node bench/src/startup.ts`: how long the `litestream` command takes to start and how much
 * memory it needs when it does little (issue 9: `litestream version` ≤ 150 ms; issue 12:
 * ≤ 70 MB RSS).
 *
 * Runs the built bin (`packages/cli/bin/litestream.js`, so build first: `pnpm -r run build`)
 * with plain `node`, each case RUNS times after one warm-up, interleaved (A B C D, A B C D, …)
 * so background load spreads over every case alike, and prints min / median / max wall time
 * (spawn to exit, measured by `/usr/bin/time`) and peak RSS (`%M`) per case:
 *
 *   version           litestream version
 *   --help            litestream --help
 *   restore --help    litestream restore --help
 *   restore (file)    litestream restore -o OUT file://REPLICA of a small database (93 pages)
 *
 * The replica is made once with `litestream replicate --once` in a temporary directory that
 * is removed at the end. Env: BENCH_RUNS (default 15), BENCH_JSON=path to also write the runs,
 * LITESTREAM_BIN=path of another build's `bin/litestream.js` (to compare before/after).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fmt, median, repoRoot, runTimed, table } from './common.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const BIN = process.env.LITESTREAM_BIN || join(repoRoot, 'packages/cli/bin/litestream.js');
/** Issue 9 / 12 targets for `litestream version`. */
const VERSION_WALL_MS = 150;
const VERSION_RSS_MB = 70;

interface Run {
  wallMs: number;
  maxRssKiB: number;
}

interface Case {
  name: string;
  args: (run: number) => string[];
}

async function timeOnce(args: readonly string[]): Promise<Run> {
  // /usr/bin/time reports the child's peak RSS (getrusage of the waited-for process); the
  // wall time is its own %e (10 ms resolution), so use ours (spawn to exit) instead.
  const r = await runTimed('/usr/bin/time', ['-f', '@@time %M', process.execPath, BIN, ...args], {
    stdoutTo: '/dev/null',
    env: { ...process.env, LITESTREAM_CONFIG: '' },
  });
  const m = /@@time (\d+)\s*$/.exec(r.stderr);
  if (r.code !== 0 || !m) throw new Error(`litestream ${args.join(' ')} exited with ${r.code}:\n${r.stderr}`);
  return { wallMs: r.wallMs, maxRssKiB: Number(m[1]) };
}

function makeReplica(dir: string): string {
  const dbPath = join(dir, 'small.db');
  const db = new Database(dbPath);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)');
  const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) insert.run(`row ${i} `.repeat(20));
  })();
  db.close();
  const replica = `file://${join(dir, 'replica')}`;
  execFileSync(process.execPath, [BIN, 'replicate', '--once', dbPath, replica], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, LITESTREAM_CONFIG: '' } });
  return replica;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'litestream-startup-'));
  try {
    const replica = makeReplica(dir);
    const cases: Case[] = [
      { name: 'version', args: () => ['version'] },
      { name: '--help', args: () => ['--help'] },
      { name: 'restore --help', args: () => ['restore', '--help'] },
      { name: 'restore (file)', args: (run) => ['restore', '-o', join(dir, `restored-${run}.db`), replica] },
    ];
    const runs = new Map<string, Run[]>(cases.map((c) => [c.name, []]));
    const loadBefore = loadavg();
    for (let run = -1; run < RUNS; run++) {
      for (const c of cases) {
        const r = await timeOnce(c.args(run));
        if (run >= 0) runs.get(c.name)!.push(r);
      }
      rmSync(join(dir, `restored-${run}.db`), { force: true });
    }
    const loadAfter = loadavg();

    const rows = cases.map((c) => {
      const rs = runs.get(c.name)!;
      const walls = rs.map((r) => r.wallMs);
      const rss = rs.map((r) => r.maxRssKiB / 1024);
      return [c.name, fmt(Math.min(...walls)), fmt(median(walls)), fmt(Math.max(...walls)), fmt(Math.min(...rss), 1), fmt(median(rss), 1), fmt(Math.max(...rss), 1)];
    });
    console.log(`litestream start-up (${BIN}), node ${process.version}, ${RUNS} runs after 1 warm-up, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    console.log(table(['case', 'min ms', 'median ms', 'max ms', 'min RSS MiB', 'median RSS MiB', 'max RSS MiB'], rows, new Set([1, 2, 3, 4, 5, 6])));
    const version = runs.get('version')!;
    const versionMin = Math.min(...version.map((r) => r.wallMs));
    const versionRss = median(version.map((r) => r.maxRssKiB / 1024));
    console.log(
      `\nversion: min ${fmt(versionMin)} ms (target ≤ ${VERSION_WALL_MS} ms: ${versionMin <= VERSION_WALL_MS ? 'met' : 'NOT met'}), ` +
        `median peak RSS ${fmt(versionRss, 1)} MiB (target ≤ ${VERSION_RSS_MB} MB: ${(versionRss * 1024 * 1024) / 1e6 <= VERSION_RSS_MB ? 'met' : 'NOT met'})`,
    );
    if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(Object.fromEntries(runs), null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
