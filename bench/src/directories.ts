/**
 * Directory replication at scale (issue 13): N small databases (default 1000) in a tree of
 * subdirectories, replicated by one `replicate` through a single `dir` entry (`recursive`,
 * `watch`), to a local file replica. Not a timed test: run by hand (`pnpm bench:dirs`).
 *
 * Start-up: from process start until every database's initial snapshot is on the replica; how
 * many databases were between opening and their first snapshot at once (the stagger: without
 * one, all N would be), and the replicator's CPU and peak RSS by then.
 *
 * Idle: once start-up settled (the longer of one checkpoint interval and 30 s — each initial
 * snapshot is compacted into L1 30 s after its database started — plus 3 s, and then no replica
 * file for 5 s, as those compactions take a while under load), a window of
 * BENCH_IDLE_WINDOW_S (default 15 s) with nobody writing: the replicator's CPU as % of one
 * core, the storage requests (replica files created or replaced, watched with inotify plus a
 * scan at both ends; each file write is one PUT on an object store), and its log lines.
 *
 * Prints the figures, writes `.bench-data/results-directories.json`, and replaces the
 * "Directory replication" section of `docs/BENCHMARKS.md` (BENCH_DOCS=0 leaves it alone).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { dataDir, ensureDataDir, MB, repoRoot } from './common.ts';
import { installCleanup, makeTempDir, msBetween, nowNs, removeTempDir, Service, sleep } from './peer/proc.ts';
import { ReplicaWatcher } from './peer/replica-watch.ts';
import { oursCommand } from './peer/tools.ts';

const N = Number(process.env.BENCH_DIR_N ?? 1000);
/** `watch: true` (default), or BENCH_DIR_WATCH=0 for a static directory, to see what watching costs. */
const WATCH = process.env.BENCH_DIR_WATCH !== '0';
const PER_DIRECTORY = 100;
const WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW_S ?? 15);
const CHECKPOINT_S = 5;
const FOLLOW_UP_S = 30;
const SETTLE_S = 3;
/** Start-up has settled once no replica file appeared or changed for this long. */
const QUIET_MS = 5000;
const TIMEOUT_MS = 15 * 60_000;

const INITIAL = /^(.*)\/ltx\/0\/0000000000000001-[0-9a-f]{16}\.ltx$/;

/** `n` small databases below `root` (`t00/idle-0000.db`, …), each with a -wal file holding a few commits. */
function makeDatabases(root: string, n: number): string[] {
  const template = join(root, 'template.db');
  const db = new Database(template);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const insert = db.prepare('INSERT INTO notes(body) VALUES (?)');
  for (let i = 0; i < 4; i++) insert.run(`note ${i} `.repeat(40));
  const tree = join(root, 'tenants');
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const dir = join(tree, `t${String(Math.floor(i / PER_DIRECTORY)).padStart(2, '0')}`);
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `idle-${String(i).padStart(4, '0')}.db`);
    // Copied while the template's connection is open: closing it would checkpoint the WAL away.
    copyFileSync(template, p);
    copyFileSync(`${template}-wal`, `${p}-wal`);
    paths.push(p);
  }
  if (statSync(`${template}-wal`).size < 4096) throw new Error('template WAL holds no commits');
  db.close();
  return paths;
}

/** Waits until no replica file appeared or changed for `ms` (at most 5 minutes). */
async function quiet(root: string, ms: number, service: Service): Promise<void> {
  let last = Date.now();
  const watcher = new ReplicaWatcher(root).onFile(() => (last = Date.now())).start();
  const deadline = Date.now() + 5 * 60_000;
  try {
    while (Date.now() - last < ms && Date.now() < deadline) {
      service.check();
      await sleep(100);
    }
  } finally {
    watcher.stop();
  }
}

/** The most intervals [open, first snapshot] that overlap at one moment. */
function peakOverlap(intervals: ReadonlyArray<readonly [bigint, bigint]>): number {
  const events = intervals.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1]));
  let now = 0;
  let peak = 0;
  for (const [, d] of events) {
    now += d;
    peak = Math.max(peak, now);
  }
  return peak;
}

const field = (text: string, key: string): string | undefined => new RegExp(`(?:^| )${key}=("(?:[^"\\\\]|\\\\.)*"|\\S+)`).exec(text)?.[1]?.replace(/^"|"$/g, '');

async function main(): Promise<void> {
  installCleanup();
  ensureDataDir();
  const work = makeTempDir(`dirs-${N}`);
  try {
    console.log(`making ${N} databases…`);
    const paths = makeDatabases(work, N);
    const replicas = join(work, 'replicas');
    mkdirSync(replicas);
    const config = join(work, 'litestream.yml');
    writeFileSync(
      config,
      `dbs:\n  - dir: ${join(work, 'tenants')}\n    pattern: "*.db"\n    recursive: true\n    watch: ${WATCH}\n    checkpoint-interval: ${CHECKPOINT_S}s\n` +
        `    replica:\n      type: file\n      path: ${replicas}\n`,
    );
    const initial = new Map<string, bigint>();
    const watcher = new ReplicaWatcher(replicas)
      .onFile((f) => {
        const m = INITIAL.exec(f.rel);
        if (m && !initial.has(m[1]!)) initial.set(m[1]!, f.firstSeenNs);
      })
      .start();
    const [cmd, args] = oursCommand(['replicate', '-config', config]);
    const service = new Service(`replicate ×${N} (dir)`, cmd, args);
    const deadline = Date.now() + TIMEOUT_MS;
    while (initial.size < N) {
      service.check();
      if (Date.now() > deadline) throw new Error(`only ${initial.size} of ${N} initial snapshots after ${TIMEOUT_MS / 1000} s:\n${service.tail()}`);
      await sleep(50);
    }
    watcher.stop();
    const lastSnapshotNs = [...initial.values()].reduce((a, b) => (a > b ? a : b));
    const startupMs = msBetween(service.startNs, lastSnapshotNs);
    const startupCpuMs = service.cpuMs();
    const startupRssMB = (service.peakRssKiB() * 1024) / MB;
    // Stagger: per database, from "initialized db" (opened) to its initial snapshot on the replica.
    const opened = new Map<string, bigint>();
    for (const line of service.lines) if (line.text.includes('msg="initialized db"')) opened.set(field(line.text, 'db')!, line.ns);
    const intervals: Array<readonly [bigint, bigint]> = [];
    for (const [rel, seen] of initial) {
      const at = opened.get(join(work, 'tenants', rel));
      if (at !== undefined) intervals.push([at, seen]);
    }
    const peak = peakOverlap(intervals);
    console.log(`start-up: ${N} initial snapshots in ${(startupMs / 1000).toFixed(1)} s, at most ${peak} databases between opening and first snapshot at once`);

    await sleep((Math.max(CHECKPOINT_S, FOLLOW_UP_S) + SETTLE_S) * 1000);
    // Under load the L1 compactions of start-up may still be going: wait until the replica is quiet.
    await quiet(replicas, QUIET_MS, service);
    service.check();
    const window = new ReplicaWatcher(replicas).start();
    const logFrom = service.lines.length;
    const cpu0 = service.cpuMs();
    const t0 = nowNs();
    await sleep(WINDOW_S * 1000);
    const cpu1 = service.cpuMs();
    const windowMs = msBetween(t0, nowNs());
    const files = window.stop();
    const logs = service.lines.slice(logFrom).map((l) => l.text);
    const rssMB = (service.peakRssKiB() * 1024) / MB;
    await service.stop();
    const result = {
      date: new Date().toISOString(),
      databases: N,
      watch: WATCH,
      directories: Math.ceil(N / PER_DIRECTORY),
      cpu: `${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores`,
      memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      loadAverage: loadavg().map((l) => +l.toFixed(2)),
      startup: { ms: Math.round(startupMs), cpuMs: startupCpuMs, peakRssMB: +startupRssMB.toFixed(0), peakConcurrentFirstSyncs: peak, measured: intervals.length },
      idle: {
        windowMs: Math.round(windowMs),
        cpuPercentOfOneCore: +(((cpu1 - cpu0) / windowMs) * 100).toFixed(2),
        storageRequests: files.length,
        logLines: logs.length,
        peakRssMB: +rssMB.toFixed(0),
        files: files.slice(0, 10).map((f) => `${f.kind} ${f.rel}`),
        logs: logs.slice(0, 10),
      },
    };
    console.log(JSON.stringify(result, null, 2));
    writeFileSync(join(dataDir, `results-directories${WATCH ? '' : '-static'}.json`), `${JSON.stringify(result, null, 2)}\n`);
    if (process.env.BENCH_DOCS !== '0' && WATCH) writeDocs(result);
    void paths;
  } finally {
    removeTempDir(work);
  }
}

const BEGIN = '<!-- directories:begin -->';
const END = '<!-- directories:end -->';

/** Replaces (or appends) the "Directory replication" section of docs/BENCHMARKS.md. */
function writeDocs(r: {
  date: string;
  databases: number;
  directories: number;
  cpu: string;
  node: string;
  loadAverage: number[];
  startup: { ms: number; cpuMs: number; peakRssMB: number; peakConcurrentFirstSyncs: number };
  idle: { windowMs: number; cpuPercentOfOneCore: number; storageRequests: number; logLines: number; peakRssMB: number };
}): void {
  const section = [
    BEGIN,
    '## Directory replication: 1000 databases under one `dir` entry',
    '',
    `Generated by \`pnpm bench:dirs\` (bench/src/directories.ts) on ${r.date.slice(0, 10)}: ${r.cpu}, Node ${r.node}, load average ${r.loadAverage.join(' ')} at the end${r.loadAverage[0]! > 2 ? ' (other work shared the machine)' : ''}. ` +
      `${r.databases} small databases (each with a \`-wal\` holding a few commits, nobody writing) in ${r.directories} subdirectories, replicated by one \`replicate\` ` +
      `through a single \`dir\` entry with \`recursive: true\`, \`watch: true\` and \`checkpoint-interval: ${CHECKPOINT_S}s\`, to a local file replica. ` +
      `The idle window starts once start-up settled (${Math.max(CHECKPOINT_S, FOLLOW_UP_S) + SETTLE_S} s after the last initial snapshot, so that each initial snapshot was compacted into L1, and then no replica file for ${QUIET_MS / 1000} s) and lasts ${(r.idle.windowMs / 1000).toFixed(0)} s; ` +
      'CPU is utime+stime of the replicator; storage requests are replica files created or replaced (one PUT each on an object store).',
    '',
    '| figure | value | target |',
    '|---|---|---|',
    `| start-up: every initial snapshot on the replica (s) | ${(r.startup.ms / 1000).toFixed(1)} | |`,
    `| start-up: most databases between opening and first snapshot at once | ${r.startup.peakConcurrentFirstSyncs} | staggered (bounded, not ${r.databases}) |`,
    `| start-up: replicator CPU (s) | ${(r.startup.cpuMs / 1000).toFixed(1)} | |`,
    `| peak RSS (MB) | ${Math.max(r.startup.peakRssMB, r.idle.peakRssMB)} | |`,
    `| ${r.databases} idle databases: CPU (% of one core) | ${r.idle.cpuPercentOfOneCore.toFixed(2)} | ≤ 2 |`,
    `| ${r.databases} idle: storage requests in the window | ${r.idle.storageRequests} | 0 |`,
    `| ${r.databases} idle: log lines in the window | ${r.idle.logLines} | 0 |`,
    '',
    END,
  ].join('\n');
  const file = join(repoRoot, 'docs', 'BENCHMARKS.md');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  const next = start !== -1 && end > start ? `${text.slice(0, start)}${section}${text.slice(end + END.length)}` : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
  console.log(`updated ${file}`);
}

await main();
