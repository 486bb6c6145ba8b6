/**
 * Figure 5, writer throughput kept: the steady writer's transaction as fast as possible for
 * 10 s on the 200 MB database, with no replicator, with ours replicating, with the peer
 * replicating (in that order each round); kept = transactions/s with / without, same round.
 */
import { join } from 'node:path';
import type { BenchDatabase } from '../../make-db.ts';
import { sourceDatabase, workingCopy } from '../databases.ts';
import { makeTempDir, removeTempDir, sleep } from '../proc.ts';
import { drain, entries, startReplication, type Replication } from '../replication.ts';
import type { Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type ToolId } from '../tools.ts';
import { startWriter, writerResult } from '../writer.ts';

let src: BenchDatabase;

export const writerKept: Scenario = {
  id: 'writer',
  number: 5,
  title: 'Writer throughput kept',
  method:
    `A working copy of the ${settings.scale === 1 ? '200 MB' : 'scaled'} database; the writer process of the steady figure commits its transaction (INSERT of a 200-byte row + UPDATE of a random row) ` +
    `as fast as it can for ${settings.writerSeconds} s: with no replicator, then with ours replicating, then with the peer (each after its initial snapshot is on the replica and ` +
    `${settings.settleSeconds} s more), each tool's defaults. Kept = transactions/s with replication ÷ without, same round. After the writer stops, the replicator is given time to catch up (no new replica file for 2.5 s) before SIGTERM (at most 30 s); a replicator that logs an error or exits non-zero fails the figure.`,
  series: ['none', 'ours', 'peer'],
  figures: [
    { key: 'tps', label: 'transactions/s', unit: '/s', digits: 0 },
    { key: 'kept', label: 'throughput kept vs no replication', unit: '×', digits: 3, target: { kind: 'ratio-min', value: 1.0 }, targetText: '≥ 1.0× peer (DESIGN §7: ≥ 0.95)' },
  ],
  async prepare() {
    src = await sourceDatabase('steady');
  },
  async run(series, ctx) {
    const dir = makeTempDir(`writer-${series}`);
    try {
      const db = workingCopy(src, join(dir, 'app.db'));
      let r: Replication | undefined;
      if (series !== 'none') {
        r = await startReplication(TOOLS[series as ToolId], dir, entries(dir, [db]), { name: 'writer kept' });
        await sleep(settings.settleSeconds * 1000);
        r.service.check();
      }
      try {
        const w = await writerResult(startWriter(db, 'max', [settings.writerSeconds]), settings.writerSeconds * 1000 + 60_000);
        const tps = w.commits / w.seconds;
        let quiet: boolean | undefined;
        if (r) {
          quiet = await drain(r, 2500, 30_000);
          await r.service.stop();
        }
        const none = ctx.sameRound.none?.values.tps;
        return { values: series === 'none' ? { tps } : { tps, ...(none ? { kept: tps / none } : {}) }, detail: { commits: w.commits, seconds: w.seconds, quietBeforeStop: quiet } };
      } finally {
        r?.service.kill();
      }
    } finally {
      removeTempDir(dir);
    }
  },
};
