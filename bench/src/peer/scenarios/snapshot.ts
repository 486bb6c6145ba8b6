/**
 * Figure 4, initial snapshot of a 1 GB database: time from process start until the snapshot is
 * on the replica, and the replicator's peak RSS at that moment; then the restore of that
 * replica (wall time, peak RSS), checked against the source.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MB } from '../../common.ts';
import type { BenchDatabase } from '../../make-db.ts';
import { itemsHash, sourceDatabase, verifyRestored, workingCopy } from '../databases.ts';
import { makeTempDir, msBetween, removeTempDir, runMeasured } from '../proc.ts';
import { drain, entries, startReplication } from '../replication.ts';
import type { Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type ToolId } from '../tools.ts';

let src: BenchDatabase;
let sha3: string;
const size = settings.scale === 1 ? '1 GB' : 'scaled 1 GB';

export const snapshot: Scenario = {
  id: 'snapshot',
  number: 4,
  title: `Initial snapshot of a ${size} database`,
  method:
    `A working copy of the ${size} database (WAL mode, no \`-wal\` file), each tool's defaults. The time runs from spawning \`replicate\` until the snapshot file appears on the replica ` +
    'under its final name (the same criterion for both: inotify on the replica tree sees the rename; ours: `ltx/0/0000000000000001-*.ltx`, the peer: `generations/*/snapshots/*.snapshot.lz4`); ' +
    'it includes process start-up, and for the peer its first monitor tick (1 s by default). Peak RSS is the replicator\'s VmHWM read at that moment. ' +
    'The replica is then restored (after a `sync`) with each tool\'s `restore` (wall, `/usr/bin/time %M`) and the result checked as in the restore figure.',
  series: ['ours', 'peer'],
  figures: [
    { key: 'snapshot_s', label: 'initial snapshot on the replica', unit: 's', digits: 2, target: { kind: 'ratio-max', value: 1.0 }, targetText: '≤ 1.0× peer' },
    { key: 'snapshot_rss_mb', label: 'peak RSS while snapshotting', unit: 'MB', digits: 0, target: { kind: 'ours-max', value: 100 }, targetText: '≤ 100 MB' },
    { key: 'restore_s', label: 'restore of that replica: wall time', unit: 's', digits: 2, target: { kind: 'ratio-max', value: 1.0 }, targetText: '≤ 1.0× peer' },
    { key: 'restore_rss_mb', label: 'restore of that replica: peak RSS', unit: 'MB', digits: 0, target: { kind: 'ours-max', value: 100 }, targetText: '≤ 100 MB' },
  ],
  async prepare() {
    src = await sourceDatabase('snapshot');
    sha3 = itemsHash(src);
  },
  async run(series) {
    const tool = TOOLS[series as ToolId];
    const dir = makeTempDir(`snapshot-${tool.id}`);
    try {
      const db = workingCopy(src, join(dir, 'app.db'));
      const dbs = entries(dir, [db]);
      const r = await startReplication(tool, dir, dbs, { name: 'snapshot' });
      try {
        // Stopping v0.3.13 while it ships its first WAL segment makes it fail its closing checkpoint.
        await drain(r, 1500, 10_000);
        await r.service.stop();
      } finally {
        r.service.kill();
      }
      execFileSync('sync'); // the working copy's and the replica's dirty pages, so the restore does not pay for them
      const out = join(dir, 'restored.db');
      const [cmd, args] = tool.restoreCommand(r.configFile, dbs[0]!, out);
      const m = await runMeasured(cmd, args);
      verifyRestored(out, { itemsSha3: sha3, marks: 0 });
      rmSync(out, { force: true });
      return {
        values: {
          snapshot_s: msBetween(r.service.startNs, r.snapshotsNs) / 1000,
          snapshot_rss_mb: (r.rssAtSnapshotsKiB * 1024) / MB,
          restore_s: m.wallMs / 1000,
          restore_rss_mb: (m.maxRssKiB * 1024) / MB,
        },
      };
    } finally {
      removeTempDir(dir);
    }
  },
};
