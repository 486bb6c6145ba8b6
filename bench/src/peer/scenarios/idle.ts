/**
 * Figure 2, idle cost: N small databases (each with a -wal file holding a few committed pages,
 * nobody writing) under one replicator process. After every initial snapshot is on the replica
 * and start-up settled, a window of ≥ 2 checkpoint intervals: the replicator's CPU (as % of one
 * core), the storage requests (replica files created or replaced) and the log lines.
 */
import { MB } from '../../common.ts';
import { smallDatabasesWithWal } from '../databases.ts';
import { makeTempDir, msBetween, nowNs, removeTempDir, sleep } from '../proc.ts';
import { ReplicaWatcher } from '../replica-watch.ts';
import { entries, startReplication } from '../replication.ts';
import type { FigureDef, RoundResult, Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type ToolId } from '../tools.ts';

const interval = `${settings.checkpointSeconds}s`;

function figures(): FigureDef[] {
  const out: FigureDef[] = [];
  for (const n of settings.idleCounts) {
    const big = n === Math.max(...settings.idleCounts);
    out.push(
      big
        ? { key: `cpu_pct_${n}`, label: `${n} idle databases: CPU`, unit: '% of a core', digits: 2, target: { kind: 'ours-max', value: 2 }, targetText: '≤ 2% of one core' }
        : { key: `cpu_pct_${n}`, label: `${n} idle database${n === 1 ? '' : 's'}: CPU`, unit: '% of a core', digits: 2 },
      { key: `requests_${n}`, label: `${n} idle: storage requests in the window`, unit: '', digits: 0, target: { kind: 'ours-max', value: 0 }, targetText: '0' },
      { key: `log_lines_${n}`, label: `${n} idle: log lines in the window`, unit: '', digits: 0, target: { kind: 'ours-max', value: 0 }, targetText: '0' },
    );
  }
  return out;
}

export const idle: Scenario = {
  id: 'idle',
  number: 2,
  title: 'Idle cost',
  method:
    `N ∈ {${settings.idleCounts.join(', ')}} small databases, each with a \`-wal\` file holding a few committed pages, nobody writing; one replicator process over all of them ` +
    `(one config listing every database, each with its own file replica), \`checkpoint-interval: ${interval}\` for both tools (the same key in v0.3.13), other settings default. ` +
    `Start-up has settled when every initial snapshot is on the replica and then the longer of one checkpoint interval and ${settings.idleFollowUpSeconds} s, plus ${settings.settleSeconds} s, have passed ` +
    `(so what start-up left in the WAL has been checkpointed and shipped, and ours has compacted each initial snapshot into level 1, which its default schedule does once, 30 s after a database starts); the window is then ${settings.idleWindowSeconds} s ` +
    `(≥ 2 checkpoint intervals, so a checkpoint-driven write would show). CPU is utime+stime over the window as % of one core; storage requests are replica files created or replaced ` +
    '(each file write is one PUT on an object store), watched with inotify plus a scan at both ends; log lines are the lines the replicator printed in the window.',
  series: ['ours', 'peer'],
  figures: figures(),
  async prepare() {
    if (settings.idleWindowSeconds < 2 * settings.checkpointSeconds) {
      throw new Error(`BENCH_IDLE_WINDOW_S=${settings.idleWindowSeconds} must be ≥ 2 × BENCH_CHECKPOINT_S=${settings.checkpointSeconds}`);
    }
  },
  async run(series) {
    const tool = TOOLS[series as ToolId];
    const values: Record<string, number> = {};
    const detail: Record<string, unknown> = {};
    for (const n of settings.idleCounts) {
      const dir = makeTempDir(`idle-${n}-${tool.id}`);
      try {
        const paths = smallDatabasesWithWal(dir, n);
        const r = await startReplication(tool, dir, entries(dir, paths, { db: { 'checkpoint-interval': interval } }), { name: `idle ×${n}` });
        try {
          const startupMs = msBetween(r.service.startNs, r.snapshotsNs);
          // Settled: whatever start-up left in the WAL is checkpointed and shipped (one checkpoint
          // interval), and start-up's follow-up maintenance has run, plus the usual settle time.
          await sleep((Math.max(settings.checkpointSeconds, settings.idleFollowUpSeconds) + settings.settleSeconds) * 1000);
          r.service.check();
          const watcher = new ReplicaWatcher(r.replicasDir).start();
          const logFrom = r.service.lines.length;
          const cpu0 = r.service.cpuMs();
          const t0 = nowNs();
          await sleep(settings.idleWindowSeconds * 1000);
          const cpu1 = r.service.cpuMs();
          const windowMs = msBetween(t0, nowNs());
          const files = watcher.stop();
          const logs = r.service.lines.slice(logFrom).map((l) => l.text);
          const rssKiB = r.service.peakRssKiB();
          await r.service.stop();
          values[`cpu_pct_${n}`] = ((cpu1 - cpu0) / windowMs) * 100;
          values[`requests_${n}`] = files.length;
          values[`log_lines_${n}`] = logs.length;
          detail[String(n)] = {
            windowMs,
            startupMs,
            peakRssMB: (rssKiB * 1024) / MB,
            files: files.slice(0, 20).map((f) => `${f.kind} ${f.rel} (${f.size} B)`),
            logs: logs.slice(0, 10),
            watchFailures: watcher.watchFailures,
          };
        } finally {
          r.service.kill();
        }
      } finally {
        removeTempDir(dir);
      }
    }
    return { values, detail } satisfies RoundResult;
  },
};
