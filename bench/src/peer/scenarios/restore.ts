/**
 * Figure 3, restore: the 600 MB database from one snapshot (K = 0), and from the snapshot plus
 * K incremental files (K = 100, 300, 1000 by default). Each round builds the replicas again for
 * each tool, then times `litestream restore` (wall, peak RSS) on each, and checks every restored
 * database against its source (a wrong restore fails the figure).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MB } from '../../common.ts';
import type { BenchDatabase } from '../../make-db.ts';
import { itemsHash, markSql, sourceDatabase, verifyRestored, workingCopy } from '../databases.ts';
import { makeTempDir, nowNs, removeTempDir, runMeasured } from '../proc.ts';
import { listFiles, ReplicaWatcher } from '../replica-watch.ts';
import { drain, entries, startReplication, waitFor } from '../replication.ts';
import type { FigureDef, Scenario } from '../scenario.ts';
import { settings } from '../settings.ts';
import { TOOLS, type DbEntry, type Tool, type ToolId } from '../tools.ts';

let src: BenchDatabase;
let sha3: string;
const ks = settings.restoreCounts;
const headline = Math.max(...ks);

/** What one replica copy holds. */
interface Built {
  k: number;
  dir: string;
  incremental: number;
  fullImages: number;
  compacted: number;
  bytes: number;
}

function figures(): FigureDef[] {
  const out: FigureDef[] = [];
  for (const k of ks) {
    const name = k === 0 ? 'one snapshot' : `snapshot + ${k} incremental files`;
    out.push({
      key: `wall_${k}`,
      label: `restore, ${name}: wall time`,
      unit: 's',
      digits: 2,
      ...(k === 0 || k === headline ? { target: { kind: 'ratio-max', value: 1.0 } as const, targetText: '≤ 1.0× peer' } : {}),
    });
  }
  for (const k of ks) out.push({ key: `rss_${k}`, label: `restore, ${k === 0 ? 'one snapshot' : `snapshot + ${k} files`}: peak RSS`, unit: 'MB', digits: 0 });
  for (const k of ks.filter((x) => x > 0)) out.push({ key: `files_${k}`, label: `incremental files in the K = ${k} replica`, unit: '', digits: 0 });
  out.push({ key: `full_images_${headline}`, label: `full images in the K = ${headline} replica`, unit: '', digits: 0 });
  return out;
}

/** The replicator settings that make each commit its own file, and keep the level-0 files. */
function buildSettings(tool: Tool): { db: Record<string, string>; replica: Record<string, string>; top?: Record<string, never> | { levels: { interval: string }[]; 'l0-retention': string } } {
  const fast = { db: { 'monitor-interval': '10ms' }, replica: { 'sync-interval': '10ms' } };
  // Ours: one compaction level whose interval exceeds the build, so no level-0 file is compacted away.
  return tool.id === 'ours' ? { ...fast, top: { levels: [{ interval: '24h' }], 'l0-retention': '24h' } } : fast;
}

/**
 * Replicates a fresh working copy, commits marks 1..max(K) one at a time (each waits until a
 * new incremental file is on the replica), and hard-links a copy of the replica at each K.
 */
async function build(tool: Tool, dir: string): Promise<{ copies: Built[]; db: DbEntry; missedByEvents: number; nudges: number }> {
  const path = workingCopy(src, join(dir, 'app.db'));
  const s = buildSettings(tool);
  const dbs = entries(dir, [path], { db: s.db, replica: s.replica });
  const r = await startReplication(tool, dir, dbs, { name: 'restore build', top: s.top });
  const copies: Built[] = [];
  let missedByEvents = 0;
  let nudges = 0;
  try {
    let incrementals = 0;
    let lastFileNs = nowNs();
    const watcher = new ReplicaWatcher(r.replicasDir)
      .onFile((f) => {
        lastFileNs = nowNs();
        if (tool.classify(f.rel).incremental) incrementals++;
      })
      .start();
    const quiet = async () => {
      // Nothing new on the replica for 300 ms (the replicator has shipped what it had), or 3 s
      // at most: a replicator may keep writing files of its own (copies are consistent anyway:
      // only files renamed into place are linked).
      const start = performance.now();
      await waitFor('a quiet replica', () => Number(nowNs() - lastFileNs) / 1e6 > 300 || performance.now() - start > 3000, r.service, 60_000);
    };
    const snapshotCopy = async (k: number) => {
      await quiet();
      const copy = join(dir, `replica-k${k}`);
      execFileSync('cp', ['-al', dbs[0]!.replicaDir, copy]);
      let incremental = 0;
      let fullImages = 0;
      let compacted = 0;
      let bytes = 0;
      for (const [rel, size] of listFiles(copy)) {
        const c = tool.classify(rel);
        incremental += c.incremental ? 1 : 0;
        fullImages += c.fullImage ? 1 : 0;
        compacted += c.compacted ? 1 : 0;
        bytes += size;
      }
      if (compacted > 0) throw new Error(`${tool.label} compacted level-0 files while the K = ${k} replica was built; rerun`);
      if (incremental < k) throw new Error(`${tool.label}: the K = ${k} replica has only ${incremental} incremental files`);
      copies.push({ k, dir: copy, incremental, fullImages, compacted, bytes });
    };
    const app = new Database(path);
    try {
      app.pragma('busy_timeout = 5000');
      const insert = app.prepare(`INSERT INTO marks(k, v) VALUES (@k, ${markSql.replace('k)', '@k)')})`);
      const nudge = app.prepare("INSERT INTO bench_log(at, body) VALUES (@k, 'nudge')");
      if (ks.includes(0)) await snapshotCopy(0);
      for (let k = 1; k <= headline; k++) {
        const before = incrementals;
        insert.run({ k });
        const t0 = performance.now();
        let lastNudge = t0;
        let polls = 0;
        await waitFor(
          () => `the incremental file of commit ${k} (${incrementals} incremental files counted so far, ${nudges} nudges)`,
          () => {
            if (incrementals > before) return true;
            // Every 500 ms without news, rescan in case an inotify event was missed.
            if (++polls % 50 === 0 && watcher.rescan() > 0 && incrementals > before) return true;
            // Litestream v0.3.13 decides whether to notify its replica from the WAL size it saw
            // before copying, so a commit landing in between is copied to its shadow WAL but not
            // shipped until the next change: after 1 s, make one (a row in bench_log, which the
            // restore check ignores).
            if (performance.now() - lastNudge > 1000) {
              nudge.run({ k });
              nudges++;
              lastNudge = performance.now();
            }
            return false;
          },
          r.service,
          30_000,
        );
        if (ks.includes(k)) await snapshotCopy(k);
      }
    } finally {
      app.close();
      watcher.stop();
      missedByEvents = watcher.missedByEvents;
    }
    await drain(r, 1000, 5000);
    await r.service.stop();
  } finally {
    r.service.kill();
  }
  return { copies, db: dbs[0]!, missedByEvents, nudges };
}

export const restore: Scenario = {
  id: 'restore',
  number: 3,
  title: 'Restore',
  method:
    `A working copy of the ${settings.scale === 1 ? '600 MB' : 'scaled'} database is replicated by the tool's own \`replicate\` command (not the library) with \`monitor-interval: 10ms\` and \`sync-interval: 10ms\`, ` +
    'and ours with one compaction level of `24h` and `l0-retention: 24h`, so no level-0 file is compacted away during the build. Then marks 1, 2, … are committed one at a time ' +
    '(an INSERT of a 200-byte row), each waiting until a new incremental file (ours: a level-0 LTX file, the peer: a WAL segment) is on the replica ' +
    '(v0.3.13 decides whether to wake its replica from the WAL size it saw before copying the WAL, so a commit landing in between waits for the next change; ' +
    'after 1 s without a file the build commits a row to another table to wake it; ' +
    'the number of such nudges is in the JSON); at K = ' +
    `${ks.join(', ')} the replica is copied with hard links (\`cp -al\`). The counts are checked (≥ K incremental files, no compaction output) and reported. ` +
    'After a `sync` and one unmeasured warm-up restore, each copy is restored with the tool\'s `restore` (ours: `restore -o OUT file://REPLICA`; the peer: `restore -config CFG -o OUT DB`), each tool\'s defaults; wall time is spawn to exit, ' +
    'peak RSS is `/usr/bin/time %M`. Every restored database must pass `PRAGMA integrity_check`, hash its `items` table (sqlite3 `.sha3sum`) to the source\'s hash, and hold exactly marks 1..K ' +
    'with their text; otherwise the figure fails. The `cp` row copies the source database file (a floor).',
  series: ['ours', 'peer', 'cp'],
  figures: figures(),
  async prepare() {
    src = await sourceDatabase('restore');
    sha3 = itemsHash(src);
  },
  async run(series) {
    const dir = makeTempDir(`restore-${series}`);
    try {
      if (series === 'cp') {
        const out = join(dir, 'copy.db');
        const m = await runMeasured('cp', [src.path, out]);
        return { values: { wall_0: m.wallMs / 1000, rss_0: (m.maxRssKiB * 1024) / MB } };
      }
      const tool = TOOLS[series as ToolId];
      const t0 = performance.now();
      const { copies, db, missedByEvents, nudges } = await build(tool, dir);
      const buildSeconds = (performance.now() - t0) / 1000;
      const values: Record<string, number> = {};
      const detail: Record<string, unknown> = { buildSeconds, missedByEvents, nudges, replicas: copies.map(({ dir: _d, ...c }) => c) };
      // Flush the build's dirty pages (the working copy, the replica) so the first restore does
      // not pay for their writeback, then one restore as a warm-up (not measured).
      execFileSync('sync');
      const restoreOnce = async (c: Built) => {
        const entry: DbEntry = { ...db, replicaDir: c.dir };
        const cfg = join(dir, `restore-k${c.k}.yml`);
        tool.writeConfig(cfg, [entry]);
        const out = join(dir, `restored-k${c.k}.db`);
        const [cmd, args] = tool.restoreCommand(cfg, entry, out);
        const m = await runMeasured(cmd, args);
        verifyRestored(out, { itemsSha3: sha3, marks: c.k });
        for (const f of [out, `${out}-wal`, `${out}-shm`]) rmSync(f, { force: true });
        return m;
      };
      detail.warmupSeconds = (await restoreOnce(copies[0]!)).wallMs / 1000;
      for (const c of copies) {
        const m = await restoreOnce(c);
        values[`wall_${c.k}`] = m.wallMs / 1000;
        values[`rss_${c.k}`] = (m.maxRssKiB * 1024) / MB;
        if (c.k > 0) values[`files_${c.k}`] = c.incremental;
        if (c.k === headline) values[`full_images_${c.k}`] = c.fullImages;
        rmSync(c.dir, { recursive: true, force: true });
      }
      return { values, detail };
    } finally {
      removeTempDir(dir);
    }
  },
};
