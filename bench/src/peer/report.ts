/**
 * The output of the peer comparison: a console summary, and `docs/BENCHMARKS.md` (generated)
 * with the machine, one table per figure (min / median / max for ours and the peer, the ratio
 * of the medians, the target of issue 9 and whether it is met) and two SVG plots beside it:
 * the lag CDF and restore time against the number of files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fmt, repoRoot, table } from '../common.ts';
import { summarize, valuesOf, verdict, type FigureDef, type ScenarioResult, type SeriesId, type Summary } from './scenario.ts';
import type { Settings } from './settings.ts';
import { lineChart, type ChartSeries } from './svg.ts';

export interface RunInfo {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  kernel: string;
  oursVersion: string;
  peerVersion: string;
  commit: string;
  oursBin: string;
  oursBuilt: string;
  dirtyFiles: number;
  loadBefore: number[];
  loadAfter: number[];
  rounds: number;
  settings: Settings;
  scenarios: string[];
  seconds: number;
}

const SERIES_NAME: Record<string, string> = { ours: 'litestream-ts', peer: 'Litestream v0.3.13', none: 'no replication', cp: '`cp`' };
const seriesName = (s: SeriesId) => SERIES_NAME[s] ?? `litestream-ts (${s.slice(5)})`;

const num = (v: number, d: number) => fmt(v, d);
const range = (s: Summary | undefined, f: FigureDef) => (s ? `${num(s.min, f.digits)} / **${num(s.median, f.digits)}** / ${num(s.max, f.digits)}` : '—');
const rangePlain = (s: Summary | undefined, f: FigureDef) => (s ? `${num(s.min, f.digits)} / ${num(s.median, f.digits)} / ${num(s.max, f.digits)}` : '—');

function ratio(o: Summary | undefined, p: Summary | undefined): string {
  if (!o || !p) return '—';
  if (p.median === 0) return o.median === 0 ? '1 (both 0)' : '∞ (peer 0)';
  const r = o.median / p.median;
  return `${r >= 10 ? fmt(r, 0) : r >= 1 ? fmt(r, 2) : fmt(r, 3)}×`;
}

interface Row {
  scenario: ScenarioResult;
  fig: FigureDef;
  ours?: Summary;
  peer?: Summary;
  /** Baselines and variants: no replication, cp, ours variants. */
  others: { series: SeriesId; s: Summary }[];
  verdict: ReturnType<typeof verdict>;
}

function rows(r: ScenarioResult): Row[] {
  return r.figures.map((fig) => {
    const ours = summarize(valuesOf(r, 'ours', fig.key));
    const peer = summarize(valuesOf(r, 'peer', fig.key));
    const others: Row['others'] = [];
    for (const { series } of r.series) {
      if (series === 'ours' || series === 'peer') continue;
      const s = summarize(valuesOf(r, series, fig.key));
      if (s) others.push({ series, s });
    }
    return { scenario: r, fig, ours, peer, others, verdict: verdict(fig, ours, peer) };
  });
}

const unitOf = (f: FigureDef) => (f.unit ? ` (${f.unit})` : '');
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');

export function consoleSummary(info: RunInfo, results: ScenarioResult[]): string {
  const out: string[] = [];
  out.push('');
  out.push(`litestream-ts (${info.oursVersion}, ${info.commit}) vs ${info.peerVersion}; ${info.rounds} round(s); node ${info.node}; ${info.cpuModel} × ${info.cores}`);
  out.push(`load average before ${load(info.loadBefore)}, after ${load(info.loadAfter)}; ${fmt(info.seconds / 60, 1)} min`);
  for (const r of results) {
    out.push('');
    out.push(`${r.number}. ${r.title}${r.error ? '' : ` (${fmt(r.seconds, 0)} s)`}`);
    if (r.error) {
      out.push(`   FAILED: ${r.error.split('\n').slice(0, 6).join('\n   ')}`);
      continue;
    }
    const body = rows(r).map((x) => [
      x.fig.label + unitOf(x.fig),
      rangePlain(x.ours, x.fig),
      rangePlain(x.peer, x.fig),
      x.others.map((o) => `${seriesName(o.series).replaceAll('`', '')} ${num(o.s.median, x.fig.digits)}`).join('; '),
      ratio(x.ours, x.peer),
      x.fig.targetText ?? '',
      x.verdict === 'n/a' ? '' : x.verdict,
    ]);
    out.push(table(['figure', 'ours min/med/max', 'peer min/med/max', 'other (median)', 'ours/peer', 'target', 'result'], body, new Set([1, 2, 4])));
  }
  return out.join('\n');
}

const COLORS = { ours: '#1f6fd1', peer: '#d9480f', variant: '#2b8a3e' };

function lagPlot(r: ScenarioResult): string | undefined {
  const series: ChartSeries[] = [];
  for (const s of r.series) {
    const lags = s.rounds.flatMap((x) => (x.detail?.lagsMs as number[] | undefined) ?? []).sort((a, b) => a - b);
    if (lags.length === 0) continue;
    const pts: [number, number][] = [[0, 0]];
    lags.forEach((v, i) => pts.push([v, (i + 1) / lags.length]));
    series.push({ name: `${seriesName(s.series)} (${lags.length} commits)`, color: s.series === 'ours' ? COLORS.ours : s.series === 'peer' ? COLORS.peer : COLORS.variant, points: pts, step: true, dashed: s.series === 'peer' });
  }
  if (series.length === 0) return undefined;
  return lineChart({ title: 'Commit → replica lag (isolated commits), CDF', xLabel: 'lag (ms): commit returned → first replica file holding it', yLabel: 'fraction of commits', series, yMin: 0, yMax: 1, legend: 'bottom-right', yFormat: (v) => `${Math.round(v * 100)}%` });
}

function restorePlot(r: ScenarioResult): string | undefined {
  const ks = r.figures.filter((f) => /^wall_\d+$/.test(f.key)).map((f) => Number(f.key.slice(5)));
  const series: ChartSeries[] = [];
  for (const id of ['ours', 'peer'] as const) {
    const pts: [number, number][] = [];
    const whiskers: [number, number, number][] = [];
    for (const k of ks) {
      const s = summarize(valuesOf(r, id, `wall_${k}`));
      if (!s) continue;
      pts.push([k, s.median]);
      whiskers.push([k, s.min, s.max]);
    }
    if (pts.length > 0) series.push({ name: `${seriesName(id)} (median, min–max)`, color: COLORS[id], points: pts, markers: true, whiskers, dashed: id === 'peer' });
  }
  const cp = summarize(valuesOf(r, 'cp', 'wall_0'));
  if (cp && ks.length > 0) series.push({ name: 'cp of the database file', color: '#868e96', points: [[0, cp.median], [Math.max(...ks), cp.median]], dashed: true });
  if (series.length === 0) return undefined;
  return lineChart({ title: 'Restore time vs number of incremental files', xLabel: 'incremental files after the snapshot (K)', yLabel: 'restore wall time (s)', series, yMin: 0, legend: 'top-left' });
}

export function writeDocs(info: RunInfo, results: ScenarioResult[]): string {
  const docs = join(repoRoot, 'docs');
  const plots = join(docs, 'benchmarks');
  mkdirSync(plots, { recursive: true });
  const md: string[] = [];
  md.push('# Benchmarks: litestream-ts vs Litestream v0.3.13');
  md.push('');
  md.push('<!-- Generated by `pnpm bench:peer` (bench/src/peer.ts). Do not edit by hand: rerun it. -->');
  md.push('');
  md.push(
    'Generated by `pnpm bench:peer` (method and knobs: [bench/README.md](../bench/README.md)). Ours is the built `litestream` bin of this checkout, the peer the ' +
      'Go binary of npm `@flydotio/litestream-linux-x64@1.0.1`; both replicate to a local file replica and run alternately (ours, peer, ours, peer, …), ' +
      `${info.rounds} round${info.rounds === 1 ? '' : 's'}. Each cell is **min / median / max** over the rounds; "ours/peer" is the ratio of the medians; targets are those of issue 9 ` +
      '(met/not met is judged on the medians).',
  );
  md.push('');
  md.push('| machine | |');
  md.push('|---|---|');
  md.push(`| date | ${info.date} |`);
  md.push(`| CPU | ${info.cpuModel}, ${info.cores} cores |`);
  md.push(`| memory | ${fmt(info.memoryGiB, 1)} GiB |`);
  md.push(`| kernel | ${info.kernel} |`);
  md.push(`| Node | ${info.node} |`);
  const bin = relative(repoRoot, info.oursBin);
  const where = bin.startsWith('..') ? `a separate checkout (\`${info.oursBin}\`)` : `\`${bin}\``;
  md.push(`| ours | ${info.oursVersion}: ${where} at commit ${info.commit}${info.dirtyFiles ? ` (+ ${info.dirtyFiles} uncommitted files in packages/ and backends/)` : ''}, \`dist/\` built ${info.oursBuilt} |`);
  md.push(`| peer | Litestream ${info.peerVersion} |`);
  md.push(`| rounds | ${info.rounds} |`);
  md.push(`| load average (1, 5, 15 min) | before ${load(info.loadBefore)}, after ${load(info.loadAfter)} |`);
  md.push(`| duration | ${fmt(info.seconds / 60, 1)} min |`);
  md.push('');
  if (Math.max(...info.loadBefore.slice(0, 1), ...info.loadAfter.slice(0, 1)) > 0.5) {
    md.push(`> The load average shows other work on this ${info.cores}-core machine during the run: the numbers are noisy, ratios more trustworthy than absolute values.`);
    md.push('');
  }
  // Targets at a glance.
  md.push('## Targets at a glance');
  md.push('');
  md.push('| # | figure | ours (median) | peer (median) | ours/peer | target | |');
  md.push('|---|---|---|---|---|---|---|');
  for (const r of results) {
    if (r.error) {
      md.push(`| ${r.number} | ${r.title} | **FAILED** | | | | ✗ |`);
      continue;
    }
    for (const x of rows(r).filter((x) => x.fig.target)) {
      const mark = x.verdict === 'met' ? '✓ met' : x.verdict === 'not met' ? '✗ not met' : '';
      md.push(`| ${r.number} | ${x.fig.label}${unitOf(x.fig)} | ${x.ours ? num(x.ours.median, x.fig.digits) : '—'} | ${x.peer ? num(x.peer.median, x.fig.digits) : '—'} | ${ratio(x.ours, x.peer)} | ${x.fig.targetText ?? ''} | ${mark} |`);
    }
  }
  md.push('');
  for (const r of results) {
    md.push(`## ${r.number}. ${r.title}`);
    md.push('');
    md.push(r.method);
    md.push('');
    if (r.error) {
      md.push('**FAILED** — no numbers are reported for this figure:');
      md.push('');
      md.push('```');
      md.push(r.error.split('\n').slice(0, 12).join('\n'));
      md.push('```');
      md.push('');
      continue;
    }
    const rs = rows(r);
    const otherSeries = [...new Set(rs.flatMap((x) => x.others.map((o) => o.series)))];
    md.push(`| figure | litestream-ts | Litestream v0.3.13 | ${otherSeries.map((s) => `${seriesName(s)} | `).join('')}ours/peer | target | |`);
    md.push(`|---|---|---|${otherSeries.map(() => '---|').join('')}---|---|---|`);
    for (const x of rs) {
      const others = otherSeries.map((s) => {
        const o = x.others.find((y) => y.series === s);
        return `${o ? range(o.s, x.fig) : '—'} | `;
      });
      const mark = x.verdict === 'met' ? '✓ met' : x.verdict === 'not met' ? '✗ not met' : '';
      md.push(`| ${x.fig.label}${unitOf(x.fig)} | ${range(x.ours, x.fig)} | ${range(x.peer, x.fig)} | ${others.join('')}${ratio(x.ours, x.peer)} | ${x.fig.targetText ?? ''} | ${mark} |`);
    }
    md.push('');
    if (r.id === 'lag') {
      const svg = lagPlot(r);
      if (svg) {
        writeFileSync(join(plots, 'lag-cdf.svg'), svg);
        md.push('![Commit → replica lag CDF, litestream-ts vs Litestream v0.3.13](benchmarks/lag-cdf.svg)');
        md.push('');
      }
    }
    if (r.id === 'restore') {
      const svg = restorePlot(r);
      if (svg) {
        writeFileSync(join(plots, 'restore-files.svg'), svg);
        md.push('![Restore time vs number of incremental files, litestream-ts vs Litestream v0.3.13](benchmarks/restore-files.svg)');
        md.push('');
      }
    }
  }
  md.push('## 8. The packages as installed from npm');
  md.push('');
  md.push('Install sizes (`@litestream-ts/cli` alone, with `@litestream-ts/backend-s3`, the `litestream-ts` meta-package) and the start-up of the installed command: [benchmarks/packages.md](benchmarks/packages.md), made by `BENCH_WRITE=1 node bench/src/packages.ts`.');
  md.push('');
  // The sections `pnpm bench:dirs` (directories.ts) and `pnpm bench:follow` (follow-lag.ts) write are kept as they are.
  for (const kept of keptSections(join(docs, 'BENCHMARKS.md'))) md.push(kept, '');
  md.push('## Reproducing');
  md.push('');
  md.push('```sh');
  md.push('./scripts/setup.sh && source scripts/env.sh   # Node 24, pnpm, dependencies, build (ours runs from dist/)');
  md.push('pnpm bench:peer                               # this file; BENCH_ROUNDS, BENCH_QUICK=1, one scenario: node bench/src/peer.ts restore');
  md.push('```');
  md.push('');
  md.push('Every run, with per-round details (file counts, log excerpts, raw lags), is in `.bench-data/results-peer.json`.');
  md.push('');
  const file = join(docs, 'BENCHMARKS.md');
  writeFileSync(file, md.join('\n'));
  return relative(process.cwd(), file) || file;
}

/** Sections other benches write, each between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. */
const KEPT = ['directories', 'follow-lag'] as const;

/** The kept sections (see `KEPT`) of the current file, in that order. */
function keptSections(file: string): string[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const sections: string[] = [];
  for (const name of KEPT) {
    const start = text.indexOf(`<!-- ${name}:begin -->`);
    const end = text.indexOf(`<!-- ${name}:end -->`);
    if (start !== -1 && end > start) sections.push(text.slice(start, end + `<!-- ${name}:end -->`.length));
  }
  return sections;
}
