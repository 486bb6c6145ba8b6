/**
 * Figure 2b: 100 freshly started databases (small, each with a -wal file), one replicator,
 * each tool's defaults: CPU from process start over the first 60 s.
 */
import { MB } from '../../common.ts';
import { smallDatabasesWithWal } from '../databases.ts';
import { makeTempDir, nowNs, removeTempDir, sleep } from '../proc.ts';
import { ReplicaWatcher } from '../replica-watch.ts';
import { entries } from '../replication.ts';
import type { Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type ToolId } from '../tools.ts';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

export const fresh: Scenario = {
  id: 'fresh',
  number: 2,
  title: `${settings.freshCount} freshly started databases`,
  method:
    `${settings.freshCount} small databases, each with a \`-wal\` file holding a few committed pages, nobody writing; one replicator over all of them with each tool's defaults ` +
    `(checkpoint interval 1 m). CPU (utime+stime) from process start to ${settings.freshSeconds} s after it; every database must have its initial snapshot on the replica by then. ` +
    'Storage requests: replica files created in those seconds (the initial snapshots included).',
  series: ['ours', 'peer'],
  figures: [
    { key: 'cpu_s', label: `${settings.freshCount} fresh databases: CPU over the first ${settings.freshSeconds} s`, unit: 's', digits: 2, target: { kind: 'ratio-max', value: 1.0 }, targetText: '≤ 1.0× peer' },
    { key: 'requests', label: `${settings.freshCount} fresh: storage requests in the first ${settings.freshSeconds} s`, unit: '', digits: 0 },
    { key: 'peak_rss_mb', label: `${settings.freshCount} fresh: peak RSS`, unit: 'MB', digits: 0 },
  ],
  async run(series) {
    const tool = TOOLS[series as ToolId];
    const dir = makeTempDir(`fresh-${tool.id}`);
    try {
      const paths = smallDatabasesWithWal(dir, settings.freshCount);
      const dbs = entries(dir, paths);
      const configFile = join(dir, `${tool.id}.yml`);
      tool.writeConfig(configFile, dbs);
      const replicas = join(dir, 'replicas');
      mkdirSync(replicas, { recursive: true });
      const watcher = new ReplicaWatcher(replicas).start();
      const service = tool.replicate(configFile, `fresh ×${settings.freshCount}`);
      try {
        const end = service.startNs + BigInt(Math.round(settings.freshSeconds * 1e9));
        while (nowNs() < end) {
          service.check();
          await sleep(Math.min(250, Math.max(1, Number(end - nowNs()) / 1e6)));
        }
        const cpuMs = service.cpuMs();
        const rssKiB = service.peakRssKiB();
        const files = watcher.stop();
        const snapshots = new Set(files.filter((f) => tool.isInitialSnapshot(f.rel)).map((f) => f.rel.split('/', 1)[0]));
        if (snapshots.size !== settings.freshCount) throw new Error(`only ${snapshots.size} of ${settings.freshCount} databases have a snapshot on the replica after ${settings.freshSeconds} s`);
        const logLines = service.lines.length;
        await service.stop();
        return { values: { cpu_s: cpuMs / 1000, requests: files.length, peak_rss_mb: (rssKiB * 1024) / MB }, detail: { logLines } };
      } finally {
        watcher.stop();
        service.kill();
      }
    } finally {
      removeTempDir(dir);
    }
  },
};
