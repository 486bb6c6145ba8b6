/**
 * Figure 1, steady writer: a 200 MB database, a separate writer process committing ~100 small
 * transactions per second for 20 s after the initial snapshot is on the replica. Over that
 * window: the replicator's CPU, the bytes of every replica file created, and the full images.
 */
import { join } from 'node:path';
import { MB } from '../../common.ts';
import type { BenchDatabase } from '../../make-db.ts';
import { sourceDatabase, workingCopy } from '../databases.ts';
import { makeTempDir, msBetween, nowNs, removeTempDir, sleep } from '../proc.ts';
import { ReplicaWatcher } from '../replica-watch.ts';
import { drain, entries, startReplication } from '../replication.ts';
import type { Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type ToolId } from '../tools.ts';
import { startWriter, writerResult } from '../writer.ts';

let src: BenchDatabase;

export const steady: Scenario = {
  id: 'steady',
  number: 1,
  title: 'Steady writer',
  method:
    `A working copy of the ${settings.scale === 1 ? '200 MB' : 'scaled'} database; each tool replicates it with its defaults. Once the initial snapshot is on the replica and ` +
    `${settings.settleSeconds} s have passed, a writer process (node + better-sqlite3, WAL, default \`wal_autocheckpoint\`) commits ~${settings.steadyRate} transactions/s ` +
    `(INSERT of a 200-byte row + UPDATE of a random row) for ${settings.steadySeconds} s. The window is the writer's lifetime. ` +
    'CPU: utime+stime of the replicator from `/proc/<pid>/stat` (all threads, children excluded), end minus start. ' +
    'Replica bytes: the sum of the sizes of every replica file that appeared (or was replaced) during the window, temp files excluded, compaction outputs included ' +
    '(inotify on every directory of the replica tree plus a scan at both ends; a file is counted once per inode, at its final size). ' +
    'Full images: ours, new level-0 files `0000000000000001-<max>.ltx` (and level-9 snapshots); the peer, new `generations/*/snapshots/*` files (a new generation always starts with one).',
  series: ['ours', 'peer'],
  figures: [
    { key: 'cpu_s', label: 'replicator CPU over the window', unit: 's', digits: 2, target: { kind: 'ratio-max', value: 1.0 }, targetText: '≤ 1.0× peer' },
    { key: 'replica_mb', label: 'bytes written to the replica', unit: 'MB', digits: 2, target: { kind: 'ratio-max', value: 1.2 }, targetText: '≤ 1.2× peer' },
    { key: 'full_images', label: 'full database images written', unit: '', digits: 0, target: { kind: 'ours-max', value: 0 }, targetText: '0' },
    { key: 'files', label: 'replica files written', unit: '', digits: 0 },
    { key: 'commits_per_s', label: 'writer commits/s achieved', unit: '/s', digits: 1 },
  ],
  async prepare() {
    src = await sourceDatabase('steady');
  },
  async run(series) {
    const tool = TOOLS[series as ToolId];
    const dir = makeTempDir(`steady-${tool.id}`);
    try {
      const db = workingCopy(src, join(dir, 'app.db'));
      const r = await startReplication(tool, dir, entries(dir, [db]), { name: 'steady' });
      try {
        await sleep(settings.settleSeconds * 1000);
        r.service.check();
        const watcher = new ReplicaWatcher(r.replicasDir).start();
        const logFrom = r.service.lines.length;
        const cpu0 = r.service.cpuMs();
        const t0 = nowNs();
        const writer = startWriter(db, 'steady', [settings.steadyRate, settings.steadySeconds]);
        const w = await writerResult(writer, settings.steadySeconds * 1000 + 60_000);
        const cpu1 = r.service.cpuMs();
        const windowMs = msBetween(t0, nowNs());
        const files = watcher.stop();
        r.service.check();
        const logs = r.service.lines.slice(logFrom).map((l) => l.text);
        const quietBeforeStop = await drain(r, 2500, 10_000);
        await r.service.stop();
        const kinds = files.map((f) => ({ f, k: tool.classify(f.rel) }));
        return {
          values: {
            cpu_s: (cpu1 - cpu0) / 1000,
            replica_mb: files.reduce((a, f) => a + f.size, 0) / MB,
            full_images: kinds.filter((x) => x.k.fullImage).length,
            files: files.length,
            commits_per_s: w.commits / w.seconds,
          },
          detail: {
            windowMs,
            commits: w.commits,
            incrementalFiles: kinds.filter((x) => x.k.incremental).length,
            compactedFiles: kinds.filter((x) => x.k.compacted).length,
            fullImageFiles: kinds.filter((x) => x.k.fullImage).map((x) => `${x.f.rel} (${x.f.size} B)`),
            fullImageLogLines: logs.filter((t) => t.includes('writing a full database image') || t.includes('new generation')).length,
            logLines: logs.length,
            watchFailures: watcher.watchFailures,
            quietBeforeStop,
          },
        };
      } finally {
        r.service.kill();
      }
    } finally {
      removeTempDir(dir);
    }
  },
};
