import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3 } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { integrityOf, PairReader, readPairState } from '../../../core/src/test-support/pair-reader.ts';
import { litestream, RunningCli } from './cli-process.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-follow-'));
const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

/** A writer process whose every transaction adds one row with the same `v` to tables `a` and `b`. */
async function pairWriter(db: string): Promise<AppProcess> {
  const app = new AppProcess(db);
  stops.push(() => closeApp(app));
  await app.request({ op: 'exec', sql: 'CREATE TABLE IF NOT EXISTS a (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB); CREATE TABLE IF NOT EXISTS b (id INTEGER PRIMARY KEY, v INTEGER, pad BLOB);' });
  return app;
}
const closed = new WeakSet<AppProcess>();
/** Closes a writer once (a second close would wait for an exit that already happened). */
async function closeApp(app: AppProcess): Promise<void> {
  if (closed.has(app)) return;
  closed.add(app);
  await app.close();
}
const commitPair = (app: AppProcess, v: number, pad = 300) =>
  app.request({ op: 'exec', sql: `BEGIN; INSERT INTO a (v, pad) VALUES (${v}, randomblob(${pad})); INSERT INTO b (v, pad) VALUES (${v}, randomblob(${pad})); COMMIT;` });

function running(args: readonly string[], env?: Record<string, string>): RunningCli {
  const cli = new RunningCli(args, { env });
  stops.push(async () => {
    if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  });
  return cli;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await sleep(50);
  }
}

const listLevel = async (replica: string, level: number) => ((await readdir(join(replica, 'ltx', String(level))).catch(() => [])) as string[]).filter((n) => n.endsWith('.ltx'));

describe('litestream restore -f (real bin)', () => {
  it('follows a replicating primary through compactions, a snapshot and a restart from a new snapshot, for a reader holding the output open; SIGTERM exits 0', async () => {
    const db = join(dir, 'app.db');
    const replica = join(dir, 'replica');
    const out = join(dir, 'follower', 'replica.db');
    const config = join(dir, 'app.yml');
    await writeFile(
      config,
      `levels:\n  - interval: 1s\nsnapshot:\n  interval: 4s\nl0-retention: 0s\ndbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: file://${replica}\n      sync-interval: 100ms\n`,
    );
    let app = await pairWriter(db);
    await commitPair(app, 1);
    let primary = running(['replicate', '-config', config]);
    await primary.waitFor('snapshot written');

    const follower = running(['restore', '-f', '-follow-interval', '100ms', '-o', out, `file://${replica}`]);
    await follower.waitFor('msg=following');
    const reader = new PairReader(out, 1);
    const started = Date.now();
    // Long enough for several compactions (1 s) and a snapshot (4 s) while the follower follows.
    for (let v = 2; Date.now() - started < 6000 || v < 100; v++) {
      await commitPair(app, v, v % 25 === 0 ? 30_000 : 300);
      await sleep(15);
    }
    const want = await readPairStateOf(db);
    await until('the follower to reach the primary', async () => JSON.stringify(await readPairState(out)) === JSON.stringify(want), 30_000, () => follower.stderr);
    expect(await listLevel(replica, 9)).not.toEqual([]);
    expect((await listLevel(replica, 1)).length).toBeGreaterThan(0);

    // The primary loses its database and local state and starts again with other data: the
    // replica gets a new snapshot (a full image that continues the TXIDs), then new commits.
    primary.child.kill('SIGTERM');
    expect((await primary.exited).code).toBe(0);
    await closeApp(app);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) await rm(f, { force: true });
    await rm(join(dir, '.app.db-litestream'), { recursive: true, force: true });
    app = await pairWriter(db);
    await commitPair(app, 1000);
    await commitPair(app, 2000);
    primary = running(['replicate', '-config', config]);
    await primary.waitFor('snapshot written');
    await commitPair(app, 3000);
    await until('the follower to take the new primary state', async () => (await readPairState(out))?.sumA === 6000, 30_000, () => follower.stderr);
    await sleep(300);
    const seen = await reader.stop();

    follower.child.kill('SIGTERM');
    const exit = await follower.exited;
    expect(exit.code, follower.stderr).toBe(0);
    const stopped = /^stopped following .*replica\.db at TXID [0-9a-f]{16}: (\d+) file\(s\) applied, (\d+) restore\(s\)\n$/.exec(follower.stdout);
    expect(stopped, follower.stdout).not.toBeNull();
    expect(Number(stopped![1])).toBeGreaterThan(20);
    // The first restore and the one after the restart; one more when the follower's next files
    // were compacted (into a file from TXID 1, a full image) and removed before it read them.
    expect(Number(stopped![2])).toBeGreaterThanOrEqual(2);
    expect(follower.stderr).toContain('msg="follow: restoring the latest state again"');
    primary.child.kill('SIGTERM');
    await primary.exited;

    // The reader never saw half a transaction, saw the updates arrive, and ends on the new state.
    expect(seen.errors).toEqual([]);
    expect(seen.violations).toEqual([]);
    expect(seen.distinct).toBeGreaterThan(10);
    expect(seen.last).toEqual({ a: 3, b: 3, sumA: 6000, sumB: 6000 });
    expect(await integrityOf(out)).toBe('ok');
    // Nothing beside the output: no work directory, no journal.
    expect(await readdir(join(dir, 'follower'))).toEqual(['replica.db']);
  });

  it('follows an S3 replica (fauxqs) of a configured database; SIGINT exits 0 with a -json summary', async () => {
    const s3 = await startS3({ kind: 'fauxqs' });
    stops.push(() => s3.stop());
    await s3.createBucket('follow');
    const url = `s3://follow/app?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`;
    const env = { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const db = join(dir, 's3.db');
    const out = join(dir, 's3-follower', 'replica.db');
    await mkdir(join(dir, 's3-follower'));
    const config = join(dir, 's3.yml');
    await writeFile(config, `dbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: ${url}\n      sync-interval: 100ms\n`);
    const app = await pairWriter(db);
    await commitPair(app, 1);
    const primary = running(['replicate', '-config', config], env);
    await primary.waitFor('snapshot written');
    // The source is the configured database this time (the replica comes from the config).
    const follower = running(['restore', '-f', '-follow-interval', '100ms', '-json', '-config', config, '-o', out, db], env);
    await follower.waitFor('msg=following');
    const reader = new PairReader(out, 2);
    for (let v = 2; v <= 60; v++) {
      await commitPair(app, v);
      await sleep(20);
    }
    const want = await readPairStateOf(db);
    await until('the follower to reach the primary', async () => JSON.stringify(await readPairState(out)) === JSON.stringify(want), 30_000, () => follower.stderr);
    const seen = await reader.stop();
    follower.child.kill('SIGINT');
    expect((await follower.exited).code, follower.stderr).toBe(0);
    const summary = JSON.parse(follower.stdout) as { output: string; follow: boolean; txid: string; applied: number; restores: number };
    expect(summary).toMatchObject({ output: out, follow: true, restores: 1 });
    expect(summary.txid).toMatch(/^[0-9a-f]{16}$/);
    expect(summary.applied).toBeGreaterThan(0);
    primary.child.kill('SIGTERM');
    await primary.exited;
    expect(seen.violations).toEqual([]);
    expect(seen.errors).toEqual([]);
    expect(seen.last).toEqual({ a: 60, b: 60, sumA: 1830, sumB: 1830 });
    expect(await readdir(join(dir, 's3-follower'))).toEqual(['replica.db']);
  });

  it('refuses -f with -txid, -timestamp or -dry-run, and a bad -follow-interval; --help documents it', () => {
    const url = `file://${join(dir, 'nothing')}`;
    const out = join(dir, 'never.db');
    const txid = litestream(['restore', '-f', '-txid', '5', '-o', out, url]);
    expect(txid.status).toBe(2);
    expect(txid.stderr).toContain('cannot be used with -txid or -timestamp');
    const dry = litestream(['restore', '-f', '-dry-run', '-o', out, url]);
    expect(dry.status).toBe(2);
    expect(dry.stderr).toContain('-dry-run cannot be used with -f');
    const interval = litestream(['restore', '-f', '-follow-interval', 'soon', '-o', out, url]);
    expect(interval.status).toBe(2);
    expect(interval.stderr).toContain('invalid -follow-interval "soon"');
    expect(existsSync(out)).toBe(false);
    const help = litestream(['restore', '--help']);
    expect(help.stdout).toMatch(/-f\s+follow: after restoring/);
    expect(help.stdout).toMatch(/--follow-interval <duration>.*\(default: "1s"\)/s);
  });
});

/** The primary's own pair state, read through a read-only connection beside the writer. */
async function readPairStateOf(db: string) {
  const state = await readPairState(db);
  if (!state) throw new Error(`cannot read ${db}`);
  return state;
}
