/**
 * Figure 6, commit → replica lag: isolated commits (150, spaced 250–600 ms at random) by the
 * writer process; for each, the time from the commit's return to the first new replica file
 * that holds it (ours: a level-0 LTX file; the peer: a WAL segment or snapshot), found by
 * inotify on the replica tree and confirmed by reading the file's pages for the commit's marker.
 * A variant of ours (e.g. an event-driven `sync-interval: 0`) runs as a third series with
 * BENCH_LAG_VARIANT=name:key=value[,db.key=value].
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchDatabase } from '../../make-db.ts';
import { sourceDatabase, workingCopy } from '../databases.ts';
import { markersIn } from '../markers.ts';
import { makeTempDir, msBetween, removeTempDir, sleep } from '../proc.ts';
import { keepCopy, ReplicaWatcher } from '../replica-watch.ts';
import { entries, startReplication } from '../replication.ts';
import type { Scenario, SeriesId } from '../scenario.ts';
import { settings } from '../settings.ts';
import { ours, TOOLS, type Tool, type ToolId } from '../tools.ts';
import { startWriter, writerResult } from '../writer.ts';

let src: BenchDatabase;
const variant = settings.lagVariant;
const variantId = variant ? (`ours-${variant.name}` as const) : undefined;

export function percentile(sorted: readonly number[], p: number): number {
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  const i = Math.max(0, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[i]!;
}

function toolOf(series: SeriesId): { tool: Tool; db: Record<string, string>; replica: Record<string, string> } {
  if (variant && series === variantId) return { tool: ours, db: variant.db, replica: variant.replica };
  return { tool: TOOLS[series as ToolId], db: {}, replica: {} };
}

export const lag: Scenario = {
  id: 'lag',
  number: 6,
  title: 'Commit → replica lag',
  method:
    `A working copy of the ${settings.scale === 1 ? '200 MB' : 'scaled'} database replicated with each tool's defaults (1 s sync interval)${variant ? `, plus ours with ${JSON.stringify({ ...variant.db, ...variant.replica })} as "${variantId}"` : ''}. ` +
    `After the initial snapshot and ${settings.settleSeconds} s, the writer process makes ${settings.lagCommits} isolated commits spaced ${settings.lagMinGapMs}–${settings.lagMaxGapMs} ms at random; ` +
    'each commit\'s row carries a marker, and the writer stamps the moment the commit returned (CLOCK_MONOTONIC, shared by all processes). Every new replica file that can carry commits ' +
    '(ours: `ltx/0/*.ltx`; the peer: `generations/*/wal/*.wal.lz4` or a snapshot) is stamped when inotify reports it under its final name and hard-linked aside; afterwards each file\'s pages are ' +
    'decoded (ours with our LTX decoder, the peer\'s with `lz4 -d`) to list the markers it holds. A commit\'s lag is the time to the first file holding its marker; a commit in no file fails the figure. ' +
    'Percentiles are nearest-rank over one round\'s commits; the CDF pools every round.',
  series: ['ours', 'peer', ...(variantId ? [variantId] : [])],
  figures: [
    { key: 'p50_ms', label: 'lag p50', unit: 'ms', digits: 0 },
    { key: 'p90_ms', label: 'lag p90', unit: 'ms', digits: 0 },
    { key: 'p99_ms', label: 'lag p99', unit: 'ms', digits: 0, target: { kind: 'ratio-max', value: 1.0 }, targetText: '≤ 1.0× peer (stretch: ≤ 100 ms event-driven)' },
    { key: 'max_ms', label: 'lag max', unit: 'ms', digits: 0 },
    { key: 'files_per_commit', label: 'replica files per commit', unit: '', digits: 2 },
  ],
  async prepare() {
    src = await sourceDatabase('steady');
  },
  async run(series) {
    const { tool, db: dbKeys, replica } = toolOf(series);
    const dir = makeTempDir(`lag-${series}`);
    try {
      const db = workingCopy(src, join(dir, 'app.db'));
      const r = await startReplication(tool, dir, entries(dir, [db], { db: dbKeys, replica }), { name: `lag ${series}` });
      try {
        await sleep(settings.settleSeconds * 1000);
        r.service.check();
        const kept = join(dir, 'kept');
        mkdirSync(kept);
        const arrivals: { rel: string; ns: bigint; copy: string }[] = [];
        const watcher = new ReplicaWatcher(r.replicasDir)
          .onFile((f, abs) => {
            if (!tool.carriesCommits(f.rel)) return;
            const copy = join(kept, `${arrivals.length}-${f.rel.replaceAll('/', '_')}`);
            if (keepCopy(abs, copy)) arrivals.push({ rel: f.rel, ns: f.firstSeenNs, copy });
          })
          .start();
        const w = await writerResult(startWriter(db, 'lag', [settings.lagCommits, settings.lagMinGapMs, settings.lagMaxGapMs]), settings.lagCommits * settings.lagMaxGapMs + 60_000);
        // Give the last commit time to reach the replica: three default sync intervals.
        await sleep(3000);
        watcher.stop();
        r.service.check();
        await r.service.stop();
        // Which commits each file holds.
        const holds: { ns: bigint; markers: Set<number>; rel: string }[] = [];
        for (const a of arrivals) holds.push({ ns: a.ns, rel: a.rel, markers: await markersIn(tool.id, a.copy) });
        holds.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
        const lags: number[] = [];
        w.commitNs.forEach((text, i) => {
          const k = i + 1;
          const committed = BigInt(text);
          const first = holds.find((h) => h.markers.has(k));
          if (!first) throw new Error(`commit ${k} of ${w.commits} is in no replica file of ${tool.label}`);
          lags.push(msBetween(committed, first.ns));
        });
        if (lags.some((x) => x < 0)) throw new Error('a replica file was stamped before the commit it holds returned (clock or marker mix-up)');
        const sorted = [...lags].sort((a, b) => a - b);
        const files = holds.filter((h) => h.markers.size > 0).length;
        return {
          values: {
            p50_ms: percentile(sorted, 50),
            p90_ms: percentile(sorted, 90),
            p99_ms: percentile(sorted, 99),
            max_ms: sorted[sorted.length - 1]!,
            files_per_commit: files / w.commits,
          },
          detail: { lagsMs: lags.map((x) => Math.round(x * 100) / 100), filesWithMarkers: files, filesSeen: arrivals.length },
        };
      } finally {
        r.service.kill();
      }
    } finally {
      removeTempDir(dir);
    }
  },
};
