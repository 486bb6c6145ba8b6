/**
 * `pnpm bench`: the LTX codec figures of DESIGN.md §7, measured side by side in one run on
 * the same files, every process pinned to the same single CPU.
 *
 * Throughput, on the ~1 GiB and ~256 MiB databases (built once by make-db.ts): for each
 * figure one warm-up run, then RUNS measured runs, interleaved (A B C …, A B C …) so
 * background noise spreads over all figures alike. Nothing is dropped from the page cache.
 *
 *   cat db > /dev/null              read baseline
 *   lz4 -1 -c db > /dev/null        the peer of our encoder (LZ4 frame, 64 KiB blocks)
 *   encode → discard                snapshotDatabaseFile(db, chunk => drop)
 *   encode → file                   snapshotDatabaseFile(db, fs.createWriteStream(x.ltx))
 *   lz4 -d -c db.lz4 > /dev/null    decode baseline (LZ4 frame + xxHash32 content check)
 *   decode + verify                 verifyLtx(fs.createReadStream(x.ltx, 1 MiB chunks))
 *   decode + verify, frame pages    the same on x.frame.ltx: the same pages stored as LZ4 frames,
 *                                   as Litestream v0.5.0 – v0.5.15 wrote them (make-frame-ltx.ts)
 *
 * Peak RSS, additionally on a ~4 GiB database (one run each; BENCH_LARGE=0 skips it):
 * DESIGN.md §7 caps the snapshot's peak RSS at 200 MB for 4 GiB.
 *
 * Results: a table on stdout and `.bench-data/results-codec.json`.
 * Env: BENCH_RUNS (default 5), BENCH_CPU (CPU to pin to, `none` to not pin), BENCH_LARGE=0.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  cpuModel,
  dataDir,
  ensureDataDir,
  fmt,
  fmtBytes,
  lastJsonLine,
  MB,
  median,
  MiB,
  pinArgs,
  pinnedCpu,
  runOk,
  srcDir,
  table,
} from './common.ts';
import type { MemoryPeaks } from './memory-sampler.ts';
import { DATABASES, ensureDatabase, LARGE_DATABASE, type BenchDatabase } from './make-db.ts';
import { ensureFrameLtx } from './make-frame-ltx.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LARGE = process.env.BENCH_LARGE !== '0';
const ENCODE_MB_S = 300;
const ENCODE_VS_LZ4 = 0.5;
const VERIFY_MB_S = 500;
/** DESIGN.md §7: peak RSS while snapshotting a 4 GiB database. */
const RSS_CAP_MB = 200;
/** Node flag of the diagnostic row: caps V8's young generation (see README). */
const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

type FigureId = 'cat' | 'lz4' | 'encode-discard' | 'encode-file' | 'lz4-d' | 'verify' | 'verify-frame' | 'verify-semi';

interface Run {
  /** Time the MB/s figure uses, ms: the in-process codec time for our children, wall time for cat/lz4. */
  ms: number;
  /** Wall time from spawn to exit (includes Node start-up and module loading for our children), ms. */
  wallMs: number;
  /** CPU time (user + system, all threads) over the same span as `ms`, ms. */
  cpuMs: number;
  /** Bytes the MB/s figure counts: database (uncompressed) bytes. */
  bytes: number;
  maxRssKiB: number;
  ltxBytes?: number;
  memoryPeaks?: MemoryPeaks;
}

interface FigureResult {
  id: FigureId;
  db: string;
  label: string;
  runs: Run[];
  warmup: Run | null;
  bestMBs: number;
  medianMBs: number;
  /** Best MB per CPU-second: insensitive to other processes taking turns on the core. */
  cpuMBs: number;
  peakRssKiB: number;
}

const LABELS: Record<FigureId, string> = {
  cat: 'cat db > /dev/null',
  lz4: 'lz4 -1 -c db > /dev/null',
  'encode-discard': 'encode (sink discards)',
  'encode-file': 'encode (sink = .ltx file)',
  'lz4-d': 'lz4 -d -c db.lz4 > /dev/null',
  verify: 'decode + verify',
  'verify-frame': 'decode + verify, LZ4 frame pages',
  'verify-semi': `decode + verify, node ${SEMI_SPACE_FLAG}`,
};

interface ChildJson {
  ms: number;
  dbBytes: number;
  ltxBytes: number;
  maxRssKiB: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  memoryPeaks: MemoryPeaks;
}

/** Runs a native tool under /usr/bin/time, for its peak RSS and CPU time. */
async function runTool(cmd: string, args: string[], bytes: number): Promise<Run> {
  const [pc, pa] = pinArgs(cmd, args);
  const r = await runOk('/usr/bin/time', ['-f', 'BENCH_TIME %M %U %S', pc, ...pa], { stdoutTo: '/dev/null' });
  const m = /BENCH_TIME (\d+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return {
    ms: r.wallMs,
    wallMs: r.wallMs,
    cpuMs: m ? (Number(m[2]) + Number(m[3])) * 1000 : NaN,
    bytes,
    maxRssKiB: m ? Number(m[1]) : 0,
  };
}

async function runChild(script: string, args: string[], nodeFlags: string[] = []): Promise<Run> {
  const [pc, pa] = pinArgs(process.execPath, [...nodeFlags, join(srcDir, script), ...args]);
  const r = await runOk(pc, pa);
  const j = lastJsonLine<ChildJson>(r.stdout);
  return {
    ms: j.ms,
    wallMs: r.wallMs,
    cpuMs: j.cpuUserMs + j.cpuSystemMs,
    bytes: j.dbBytes,
    maxRssKiB: j.maxRssKiB,
    ltxBytes: j.ltxBytes,
    memoryPeaks: j.memoryPeaks,
  };
}

function paths(db: BenchDatabase) {
  return { ltx: join(dataDir, `${db.name}.ltx`), frameLtx: join(dataDir, `${db.name}.frame.ltx`), lz4: join(dataDir, `${db.name}.lz4`) };
}

/** One run of a figure. Warm-up runs also produce the files later figures read. */
function runFigure(id: FigureId, db: BenchDatabase, warmup: boolean): Promise<Run> {
  const p = paths(db);
  switch (id) {
    case 'cat':
      return runTool('cat', [db.path], db.bytes);
    case 'lz4':
      // The warm-up writes db.lz4 for the lz4 -d baseline (and the frame-mode ratio).
      return runTool('lz4', warmup ? ['-q', '-1', '-f', db.path, p.lz4] : ['-q', '-1', '-c', db.path], db.bytes);
    case 'encode-discard':
      return runChild('encode-child.ts', [db.path, 'discard']);
    case 'encode-file':
      return runChild('encode-child.ts', [db.path, 'file', p.ltx]);
    case 'lz4-d':
      return runTool('lz4', ['-q', '-d', '-c', p.lz4], db.bytes);
    case 'verify':
      return runChild('verify-child.ts', [p.ltx]);
    case 'verify-frame':
      // Made from the block-page file the encode figure wrote (once per database; untimed).
      return ensureFrameLtx(p.ltx, p.frameLtx, db.path).then(() => runChild('verify-child.ts', [p.frameLtx]));
    case 'verify-semi':
      return runChild('verify-child.ts', [p.ltx], [SEMI_SPACE_FLAG]);
  }
}

const mbs = (r: Run) => r.bytes / MB / (r.ms / 1000);
const cpuMbs = (r: Run) => r.bytes / MB / (r.cpuMs / 1000);

/** Warm-up (if `runs` > 0, one extra run first) and `runs` measured runs of each figure, interleaved. */
async function measure(db: BenchDatabase, ids: FigureId[], runs: number, warmup: boolean): Promise<FigureResult[]> {
  const warmups = new Map<FigureId, Run>();
  const measured = new Map<FigureId, Run[]>(ids.map((id) => [id, []]));
  for (let rep = warmup ? 0 : 1; rep <= runs; rep++) {
    process.stderr.write(`${db.name}: ${rep === 0 ? 'warm-up' : `run ${rep}/${runs}`} `);
    for (const id of ids) {
      // Without a separate warm-up, the first run still has to write the files others read.
      const r = await runFigure(id, db, rep === 0 || (!warmup && rep === 1));
      if (rep === 0) warmups.set(id, r);
      else measured.get(id)!.push(r);
      process.stderr.write('.');
    }
    process.stderr.write('\n');
  }
  return ids.map((id) => {
    const rs = measured.get(id)!;
    const w = warmups.get(id) ?? null;
    return {
      id,
      db: db.name,
      label: LABELS[id],
      runs: rs,
      warmup: w,
      bestMBs: Math.max(...rs.map(mbs)),
      medianMBs: median(rs.map(mbs)),
      cpuMBs: Math.max(...rs.map(cpuMbs)),
      peakRssKiB: Math.max(...rs.map((r) => r.maxRssKiB), w?.maxRssKiB ?? 0),
    };
  });
}

function toolVersion(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n')[0]!;
  } catch {
    return 'unknown';
  }
}

interface Verdict {
  figure: string;
  value: string;
  target: string;
  pass: boolean;
}

/** Nominal size: 256 MiB, 1 GiB, 4 GiB. */
const sizeLabel = (db: BenchDatabase) => {
  const m = Math.round(db.bytes / MiB);
  return m >= 1024 ? `${Math.round(m / 1024)} GiB` : `${m} MiB`;
};
const mib = (kib: number) => `${fmt(kib / 1024, 1)} MiB`;

async function main(): Promise<void> {
  const started = performance.now();
  ensureDataDir();
  const load0 = loadavg();
  const dbs: BenchDatabase[] = [];
  for (const d of DATABASES) dbs.push(await ensureDatabase(d.name, d.targetBytes));
  const big = dbs.find((d) => d.name === 'db-1gib')!;
  const small = dbs.find((d) => d.name === 'db-256mib')!;
  const large = LARGE ? await ensureDatabase(LARGE_DATABASE.name, LARGE_DATABASE.targetBytes) : undefined;

  const throughputIds: FigureId[] = ['cat', 'lz4', 'encode-discard', 'encode-file', 'lz4-d', 'verify', 'verify-frame'];
  const results: FigureResult[] = [];
  // The 1 GiB file is the figure of record; the 256 MiB and 4 GiB ones are for peak RSS.
  results.push(...(await measure(big, throughputIds, RUNS, true)));
  results.push(...(await measure(small, throughputIds, RUNS, true)));
  if (large) {
    // Warm the page cache (not reported), then one run of each; no lz4: the figure is our RSS.
    await runFigure('cat', large, true);
    results.push(...(await measure(large, ['encode-discard', 'encode-file', 'verify', 'verify-semi'], 1, false)));
  }
  const load1 = loadavg();

  const get = (db: BenchDatabase, id: FigureId) => results.find((r) => r.db === db.name && r.id === id);
  const lz4Best = (db: BenchDatabase) => get(db, 'lz4')?.bestMBs ?? NaN;
  const lz4Cpu = (db: BenchDatabase) => get(db, 'lz4')?.cpuMBs ?? NaN;

  // ---- verdicts: on the best run's wall-clock MB/s (interference only ever slows a run) ----
  const verdicts: Verdict[] = [];
  const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  const throughputTarget = (r: FigureResult, db: BenchDatabase): { target: string; pass: boolean } | null => {
    if (db === large) return null; // single run, RSS only
    if (r.id === 'encode-discard' || r.id === 'encode-file') {
      return { target: `≥ ${ENCODE_MB_S} MB/s & ≥ ${ENCODE_VS_LZ4}× lz4 -1`, pass: r.bestMBs >= ENCODE_MB_S && r.bestMBs / lz4Best(db) >= ENCODE_VS_LZ4 };
    }
    if (r.id === 'verify' || r.id === 'verify-frame') return { target: `≥ ${VERIFY_MB_S} MB/s`, pass: r.bestMBs >= VERIFY_MB_S };
    return null;
  };

  const header = ['figure', 'db', 'best MB/s', 'median', 'MB/CPU-s', 'vs lz4 -1', 'target', 'result', 'peak RSS'];
  const rows: string[][] = [];
  for (const db of [big, small, ...(large ? [large] : [])]) {
    for (const r of results.filter((x) => x.db === db.name)) {
      const v = throughputTarget(r, db);
      const isEncode = r.id === 'encode-discard' || r.id === 'encode-file' || r.id === 'lz4';
      const single = r.runs.length === 1;
      rows.push([
        r.label,
        sizeLabel(db),
        fmt(r.bestMBs),
        single ? '(1 run)' : fmt(r.medianMBs),
        fmt(r.cpuMBs),
        isEncode && db !== large ? `${(r.bestMBs / lz4Best(db)).toFixed(3)}×` : '',
        v?.target ?? (r.id === 'cat' || r.id.startsWith('lz4') ? 'baseline' : 'info'),
        v ? mark(v.pass) : '',
        mib(r.peakRssKiB),
      ]);
      if (v) verdicts.push({ figure: `${r.label}, ${sizeLabel(db)}`, value: `${fmt(r.bestMBs)} MB/s (${(r.bestMBs / lz4Best(db)).toFixed(3)}× lz4 -1)`, target: v.target, pass: v.pass });
    }
  }
  // Peak RSS against file size: bounded by the DESIGN cap at every size.
  const rssRows: string[][] = [];
  const sized = [small, big, ...(large ? [large] : [])];
  for (const id of ['encode-discard', 'encode-file', 'verify'] as const) {
    const peaks = sized.map((db) => get(db, id)!.peakRssKiB);
    const heaps = sized.map((db) => Math.max(...get(db, id)!.runs.map((r) => r.memoryPeaks?.heapTotal ?? 0)));
    const pass = peaks.every((k) => (k * 1024) / MB <= RSS_CAP_MB);
    const value = peaks.map(mib).join(' → ');
    const target = `≤ ${RSS_CAP_MB} MB (${fmt((RSS_CAP_MB * MB) / MiB, 1)} MiB) at every size`;
    rssRows.push([`peak RSS, ${LABELS[id]}`, sized.map(sizeLabel).join(' → '), value, heaps.map((b) => fmt(b / MiB)).join(' → '), target, mark(pass)]);
    verdicts.push({ figure: `peak RSS, ${LABELS[id]} (${sized.map(sizeLabel).join(' → ')})`, value, target, pass });
  }

  // ---- print ----
  const cpu = pinnedCpu();
  const env = {
    node: process.version,
    v8: process.versions.v8,
    cpuModel: cpuModel(),
    pinnedCpu: cpu,
    lz4: toolVersion('lz4', ['--version']),
    sqlite3: toolVersion('sqlite3', ['--version']),
    loadavgBefore: load0,
    loadavgAfter: load1,
    runs: RUNS,
  };
  const lines: string[] = [];
  lines.push('LTX codec benchmark (DESIGN.md §7)');
  lines.push(`node ${env.node} (V8 ${env.v8}), ${env.cpuModel}; lz4 ${/v[\d.]+/.exec(env.lz4)?.[0] ?? env.lz4}; sqlite3 ${env.sqlite3.split(' ')[0]}`);
  lines.push(
    cpu === null
      ? 'NOT pinned (BENCH_CPU=none): processes may use more than one core'
      : `one core: every measured process pinned to CPU ${cpu} (taskset); our codec is single-threaded (its libuv file I/O thread and V8's GC helpers share that core)`,
  );
  lines.push(`warm page cache; 1 warm-up + ${RUNS} measured runs per figure, interleaved; MB = 10^6 bytes of database (uncompressed) data`);
  lines.push('best/median: wall clock (our children: the codec call only, without Node start-up); MB/CPU-s: bytes per CPU-second (user+sys), best run');
  lines.push(`load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')} (2-core machine shared with other work: expect noise)`);
  lines.push('');
  for (const db of sized) {
    const ltx = statSync(paths(db).ltx).size;
    let lz4 = '';
    try {
      const n = statSync(paths(db).lz4).size;
      lz4 = `, lz4 -1 frame ${fmtBytes(n)} (${(db.bytes / n).toFixed(2)}×)`;
    } catch {
      // no lz4 run on this one
    }
    let frames = '';
    try {
      frames = `, with LZ4 frame pages ${fmtBytes(statSync(paths(db).frameLtx).size)}`;
    } catch {
      // no frame-page figure on this one
    }
    lines.push(
      `${db.name}: ${fmtBytes(db.bytes)}, ${db.pageCount.toLocaleString('en-US')} pages of ${db.pageSize}, ${db.rows.toLocaleString('en-US')} rows` +
        `${db.cached ? ' (cached)' : ` (generated in ${db.generateSeconds.toFixed(1)} s)`}; LTX ${fmtBytes(ltx)} (${(db.bytes / ltx).toFixed(2)}× with per-page LZ4)${frames}${lz4}`,
    );
  }
  lines.push('');
  lines.push(table(header, rows, new Set([2, 3, 4, 5, 8])));
  lines.push('');
  lines.push(table(['peak RSS vs file size', 'db', 'peak RSS', 'V8 heapTotal MiB', 'target', 'result'], rssRows, new Set([2, 3])));
  lines.push('');
  const failed = verdicts.filter((v) => !v.pass);
  lines.push(failed.length === 0 ? 'all targets met' : `targets missed: ${failed.map((v) => v.figure).join('; ')}`);
  if (failed.length > 0) lines.push('where the time goes: pnpm --filter @litestream-ts/bench run profile');
  const totalSeconds = (performance.now() - started) / 1000;
  lines.push(`results: ${join(dataDir, 'results-codec.json')}; bench took ${totalSeconds.toFixed(0)} s`);
  console.log(lines.join('\n'));

  const json = {
    kind: 'litestream-ts codec bench',
    date: new Date().toISOString(),
    environment: env,
    targets: { encodeMBs: ENCODE_MB_S, encodeVsLz4: ENCODE_VS_LZ4, verifyMBs: VERIFY_MB_S, rssCapMB: RSS_CAP_MB },
    databases: sized.map((db) => {
      let lz4FrameBytes: number | null = null;
      try {
        lz4FrameBytes = statSync(paths(db).lz4).size;
      } catch {
        // not made for this one
      }
      return { ...db, ltxBytes: statSync(paths(db).ltx).size, lz4FrameBytes };
    }),
    figures: results.map((r) => {
      const db = sized.find((d) => d.name === r.db)!;
      return {
        id: r.id,
        db: r.db,
        label: r.label,
        bestMBs: r.bestMBs,
        medianMBs: r.medianMBs,
        cpuMBs: r.cpuMBs,
        vsLz4: r.bestMBs / lz4Best(db),
        vsLz4Cpu: r.cpuMBs / lz4Cpu(db),
        peakRssKiB: r.peakRssKiB,
        warmup: r.warmup,
        runs: r.runs,
      };
    }),
    verdicts,
    allPass: failed.length === 0,
    totalSeconds,
  };
  writeFileSync(join(dataDir, 'results-codec.json'), JSON.stringify(json, null, 2) + '\n');
  // The lz4 frame files only serve this run; the LTX files stay for `profile`.
  for (const db of sized) rmSync(paths(db).lz4, { force: true });
}

await main();
