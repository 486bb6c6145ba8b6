/**
 * Starting a replicator over a set of databases and waiting until its initial snapshots are on
 * the replica: the common start of every scenario that replicates. Replicas live in
 * `<dir>/replicas/<i>`, one per database, so one watcher on `<dir>/replicas` sees them all.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { procStatusKiB, sleep, type Service } from './proc.ts';
import { ReplicaWatcher } from './replica-watch.ts';
import { settings } from './settings.ts';
import { DEFAULT_DB_KEYS, DEFAULT_REPLICA_KEYS, type DbEntry, type Tool } from './tools.ts';

export interface Replication {
  tool: Tool;
  service: Service;
  dbs: DbEntry[];
  configFile: string;
  replicasDir: string;
  /** When the last database's initial snapshot appeared on the replica (CLOCK_MONOTONIC ns). */
  snapshotsNs: bigint;
  /** VmHWM of the replicator at that moment, KiB. */
  rssAtSnapshotsKiB: number;
}

/** Database entries for `paths`, with the default intervals written out and `extra` keys on top. */
export function entries(dir: string, paths: readonly string[], extra: { db?: Record<string, string | number>; replica?: Record<string, string | number> } = {}): DbEntry[] {
  const replicasDir = join(dir, 'replicas');
  mkdirSync(replicasDir, { recursive: true });
  return paths.map((path, i) => ({
    path,
    replicaDir: join(replicasDir, String(i)),
    db: { ...DEFAULT_DB_KEYS, ...extra.db },
    replica: { ...DEFAULT_REPLICA_KEYS, ...extra.replica },
  }));
}

/** Polls `done` every 10 ms while checking that `service` is healthy. */
export async function waitFor(what: string | (() => string), done: () => boolean, service: Service | undefined, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    service?.check();
    if (performance.now() > deadline) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${typeof what === 'string' ? what : what()}${service ? `:\n${service.tail()}` : ''}`);
    await sleep(10);
  }
  service?.check();
}

/**
 * Writes the config, starts `replicate`, and waits until every database has its initial
 * snapshot on the replica (the file renamed into place under its final name).
 */
export async function startReplication(
  tool: Tool,
  dir: string,
  dbs: DbEntry[],
  options: { top?: Parameters<Tool['writeConfig']>[2]; name: string },
): Promise<Replication> {
  const configFile = join(dir, `${tool.id}.yml`);
  tool.writeConfig(configFile, dbs, options.top);
  const replicasDir = join(dir, 'replicas');
  mkdirSync(replicasDir, { recursive: true });
  const have = new Set<string>();
  let lastNs = 0n;
  let rss = 0;
  let service: Service | undefined;
  const watcher = new ReplicaWatcher(replicasDir)
    .onFile((f) => {
      if (!tool.isInitialSnapshot(f.rel)) return;
      const db = f.rel.split('/', 1)[0]!;
      if (have.has(db)) return;
      have.add(db);
      lastNs = f.firstSeenNs;
      if (have.size === dbs.length && service) {
        try {
          rss = procStatusKiB(service.pid, 'VmHWM');
        } catch {
          // exited; check() reports it
        }
      }
    })
    .start();
  service = tool.replicate(configFile, options.name);
  try {
    await waitFor(`${dbs.length} initial snapshot(s) of ${tool.label}`, () => have.size === dbs.length, service, settings.timeoutSeconds * 1000);
  } catch (err) {
    watcher.stop();
    service.kill();
    throw err;
  }
  watcher.stop();
  return { tool, service, dbs, configFile, replicasDir, snapshotsNs: lastNs, rssAtSnapshotsKiB: rss };
}

/**
 * Waits (not measured) until the replicator has caught up: no new replica file for `quietMs`
 * (2.5 s, more than two default sync intervals) and less than 5% of a core used over the last
 * second (a replicator still copying a large WAL writes no file for a while), or `maxMs` at most
 * (a replicator that writes a file every second while idle never gets quiet). Stopping a
 * replicator in the middle of shipping a large backlog makes Litestream v0.3.13 fail its closing
 * checkpoint and exit 1, which is not what the figures are about. Returns whether it got quiet.
 */
export async function drain(r: Replication, quietMs = 2500, maxMs = 60_000): Promise<boolean> {
  let last = performance.now();
  const end = last + maxMs;
  const watcher = new ReplicaWatcher(r.replicasDir).onFile(() => (last = performance.now())).start();
  const cpu: { t: number; ms: number }[] = [];
  const idle = () => {
    const now = performance.now();
    cpu.push({ t: now, ms: r.service.cpuMs() });
    while (cpu.length > 2 && now - cpu[1]!.t >= 1000) cpu.shift();
    const first = cpu[0]!;
    return now - first.t >= 1000 && (cpu[cpu.length - 1]!.ms - first.ms) / (now - first.t) < 0.05;
  };
  let quiet = false;
  try {
    await waitFor(
      'the replicator to catch up',
      () => (quiet = idle() && performance.now() - last > quietMs) || performance.now() > end,
      r.service,
      maxMs + 5000,
    );
  } finally {
    watcher.stop();
  }
  return quiet;
}
