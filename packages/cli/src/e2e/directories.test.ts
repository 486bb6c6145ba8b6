import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3 } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, litestreamAsync, RunningCli } from './cli-process.ts';

// Directory replication (`dir` + `pattern` + `recursive` + `watch`) through the real bin, with
// writer processes of their own, as applications write their databases.
const root = await mkdtemp(join(tmpdir(), 'lts-dirs-'));
const apps: AppProcess[] = [];
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close().catch(() => {})));
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
  await rm(root, { recursive: true, force: true });
});
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** A WAL-mode database at `path` written by a process of its own, with `rows` rows. */
async function writer(path: string, rows = 5): Promise<AppProcess> {
  const app = new AppProcess(path);
  apps.push(app);
  await app.insert(rows);
  return app;
}

/** A database in rollback-journal mode (not WAL), written and closed by a process of its own. */
async function rollbackDatabase(path: string): Promise<void> {
  const app = new AppProcess(path);
  await app.request({ op: 'pragma', sql: 'journal_mode = DELETE' });
  await app.insert(2);
  await app.close();
}

/** Every file below `dir` (relative paths), sorted. */
async function filesBelow(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Waits until the file listing of `dir` has not changed for `quietMs`. */
async function settled(dir: string, quietMs: number): Promise<string[]> {
  let last = await filesBelow(dir);
  let since = Date.now();
  for (;;) {
    await sleep(200);
    const now = await filesBelow(dir);
    if (now.join('\n') !== last.join('\n')) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
}

const lines = (output: string, text: string) => output.split('\n').filter((l) => l.includes(text));

describe('directory replication (real bin, writer processes)', () => {
  it('replicates every WAL database of a tree (recursive on and off), skips the others with one warning each, and restores each', async () => {
    const dir = join(root, 'static');
    await mkdir(join(dir, 'team-a', 'deep'), { recursive: true });
    const dbs = ['top.db', 'team-a/mid.db', 'team-a/deep/low.db'];
    const writers = new Map<string, AppProcess>();
    for (const rel of dbs) writers.set(rel, await writer(join(dir, rel), 10));
    await rollbackDatabase(join(dir, 'rollback.db'));
    await writeFile(join(dir, 'notes.db'), 'not a database at all, only text that happens to match the pattern\n');
    await writeFile(join(dir, 'readme.txt'), 'ignored: does not match');

    for (const recursive of [true, false]) {
      const replica = join(root, `static-replica-${recursive}`);
      const config = join(root, `static-${recursive}.yml`);
      // The second run keeps its metadata apart, under meta-dir.
      const metaDir = join(root, 'static-meta');
      await writeFile(config, `dbs:\n  - dir: ${dir}\n    pattern: "*.db"\n    recursive: ${recursive}\n${recursive ? '' : `    meta-dir: ${metaDir}\n`}    replica:\n      url: file://${replica}\n`);
      const r = litestream(['replicate', '-once', '-config', config]);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const out = r.stdout + r.stderr;
      expect(lines(out, 'msg="skipped file"').filter((l) => l.includes('notes.db'))).toEqual([expect.stringContaining('reason="not a SQLite database"')]);
      expect(lines(out, 'msg="skipped file"').filter((l) => l.includes('rollback.db'))).toEqual([expect.stringContaining('not in WAL mode')]);
      expect(lines(out, 'msg="skipped file"')).toHaveLength(2);
      const replicated = recursive ? dbs : ['top.db'];
      expect(lines(out, 'msg="added database to replication"')).toHaveLength(replicated.length);
      // Each database under <replica>/<relative path>, and nothing else there.
      const tops = (await filesBelow(replica)).map((f) => f.split('/ltx/')[0]!.replace(/\/owner\.json$/, ''));
      expect([...new Set(tops)].sort()).toEqual([...replicated].sort());
      if (!recursive) expect(existsSync(join(metaDir, 'top.db-litestream', 'position.json'))).toBe(true);

      const listed = litestream(['databases', '-config', config, '-json']);
      expect(listed.status, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as Array<{ path: string; url: string }>).map((d) => [d.path, d.url]).sort()).toEqual(
        replicated.map((rel) => [join(dir, rel), `file://${replica}/${rel}`]).sort(),
      );
      const status = litestream(['status', '-config', config, '-json']);
      expect(status.status, status.stderr).toBe(0);
      const statuses = JSON.parse(status.stdout) as Array<{ path: string; localTXID: string; replicaTXID: string }>;
      expect(statuses.map((s) => s.path).sort()).toEqual(replicated.map((rel) => join(dir, rel)).sort());
      for (const s of statuses) expect(s.replicaTXID).toBe(s.localTXID);

      for (const rel of replicated) {
        const expected = await writers.get(rel)!.hash();
        // By the database's path (the config's dir entry gives its replica)…
        const byPath = join(root, `restored-${recursive}-path-${rel.replaceAll('/', '_')}`);
        const a = litestream(['restore', '-config', config, '-o', byPath, join(dir, rel)]);
        expect(a.status, a.stderr).toBe(0);
        expect(await sha256(byPath)).toBe(expected);
        // …and by the replica URL with the relative path appended, as Litestream documents it.
        const byURL = join(root, `restored-${recursive}-url-${rel.replaceAll('/', '_')}`);
        const b = litestream(['restore', '-o', byURL, `file://${replica}/${rel}`]);
        expect(b.status, b.stderr).toBe(0);
        expect(await sha256(byURL)).toBe(expected);
      }
    }
    // Without recursion and without watch, a directory holding no database is an error.
    const empty = join(root, 'empty');
    await mkdir(empty);
    const config = join(root, 'empty.yml');
    await writeFile(config, `dbs:\n  - dir: ${empty}\n    pattern: "*.db"\n    replica:\n      url: file://${join(root, 'empty-replica')}\n`);
    const r = litestream(['replicate', '-once', '-config', config]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`dbs[0]: no SQLite database in WAL mode matches "*.db" in ${empty}`);
  }, 120_000);

  it('with watch: picks up a new database within 2 s, releases a removed one, ignores unrelated files, and loses nothing', async () => {
    const dir = join(root, 'watched');
    const replica = join(root, 'watched-replica');
    await mkdir(join(dir, 'tenants'), { recursive: true });
    const first = await writer(join(dir, 'first.db'));
    const config = join(root, 'watched.yml');
    await writeFile(
      config,
      'levels:\n  - interval: 1s\nsnapshot:\n  interval: 2s\n  retention: 1h\nl0-retention: 1s\n' +
        `dbs:\n  - dir: ${dir}\n    pattern: "*.db"\n    recursive: true\n    watch: true\n    monitor-interval: 100ms\n    checkpoint-interval: 1s\n` +
        `    replica:\n      url: file://${replica}\n      sync-interval: 100ms\n`,
    );
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('msg="watching directory for databases"');
    await cli.waitFor(`msg="snapshot written" db=${join(dir, 'first.db')}`);

    // New databases, at the top and in a new subdirectory: each replicated within 2 s of its file appearing.
    const created = new Map<string, AppProcess>();
    for (const rel of ['second.db', 'tenants/acme/third.db']) {
      const path = join(dir, rel);
      await mkdir(join(path, '..'), { recursive: true });
      const app = new AppProcess(path);
      apps.push(app);
      while (!existsSync(path)) await sleep(5);
      const appeared = Date.now();
      await cli.waitFor(`msg="added database to replication" dir=${dir} db=${path}`, 5000);
      expect(Date.now() - appeared, `${rel} picked up`).toBeLessThan(2000);
      await app.insert(7);
      created.set(rel, app);
    }
    // Files that are not WAL databases, created while watching: one warning each, even when they change and the tree is rescanned.
    await writeFile(join(dir, 'notes.db'), 'text\n');
    // Made elsewhere and moved in: while being made, it was briefly a WAL database.
    await rollbackDatabase(join(root, 'legacy.db'));
    await rename(join(root, 'legacy.db'), join(dir, 'tenants', 'legacy.db'));
    await sleep(500);
    await writeFile(join(dir, 'notes.db'), 'more text, still not a database\n');
    await mkdir(join(dir, 'tenants', 'empty-team')); // a new directory: the tree is walked again
    await first.insert(3);
    for (const app of created.values()) await app.insert(3);
    await sleep(1500);
    expect(lines(cli.stdout, 'msg="skipped file"').filter((l) => l.includes('notes.db'))).toHaveLength(1);
    expect(lines(cli.stdout, 'msg="skipped file"').filter((l) => l.includes('legacy.db'))).toHaveLength(1);

    // Removed: the writer closes and the files go; the database is released at once, without errors.
    const gone = created.get('second.db')!;
    const goneHash = await gone.hash();
    await settled(replica, 1500);
    await gone.close();
    apps.splice(apps.indexOf(gone), 1);
    for (const suffix of ['', '-wal', '-shm']) await rm(join(dir, `second.db${suffix}`), { force: true });
    await cli.waitFor(`msg="removed database from replication" dir=${dir} db=${join(dir, 'second.db')}`, 2000);

    // Unrelated files renamed and created: no new file on the replica (no snapshot, no upload),
    // over more than every interval (sync 100 ms, L1 1 s, snapshot 2 s).
    const before = await settled(replica, 3000);
    const logged = (text: string) => lines(cli.stdout, text).length;
    const counts = () => ['msg="added database to replication"', 'msg="removed database from replication"', 'msg="initialized db"', 'msg="snapshot written"'].map(logged);
    const countsBefore = counts();
    await writeFile(join(dir, 'readme.txt'), 'hello');
    await rename(join(dir, 'readme.txt'), join(dir, 'readme.md'));
    await rename(join(dir, 'notes.db'), join(dir, 'tenants', 'notes.txt'));
    await mkdir(join(dir, 'tenants', 'other'));
    await writeFile(join(dir, 'tenants', 'other', 'data.json'), '{}');
    await sleep(4000);
    expect(await filesBelow(replica)).toEqual(before);
    // Nor was any database re-registered (opened again) or re-snapshotted.
    expect(counts()).toEqual(countsBefore);
    expect(before.filter((f) => f.includes('/ltx/9/')).length).toBeGreaterThan(0);

    // The remaining writers commit more, then replicate stops; every restore equals its writer.
    await first.insert(4);
    for (const [rel, app] of created) if (rel !== 'second.db') await app.insert(4);
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code, cli.stderr).toBe(0);
    expect(lines(cli.stdout, 'level=ERROR'), cli.stdout).toEqual([]);
    expect(lines(cli.stdout, 'sync error')).toEqual([]);
    const expected: Array<[string, string]> = [
      ['first.db', await first.hash()],
      ['tenants/acme/third.db', await created.get('tenants/acme/third.db')!.hash()],
      // The removed database's replica keeps its last state.
      ['second.db', goneHash],
    ];
    for (const [rel, hash] of expected) {
      const out = join(root, `watched-restored-${rel.replaceAll('/', '_')}`);
      const r = litestream(['restore', '-o', out, `file://${replica}/${rel}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(await sha256(out), rel).toBe(hash);
    }
  }, 120_000);

  it('replicates a watched tree to S3, each database at its relative path, and restores each', async () => {
    const s3 = await startS3();
    stops.push(() => s3.stop());
    await s3.createBucket('lts-dirs');
    const env = { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey };
    const url = (rel: string) => `s3://lts-dirs/tenants${rel ? `/${rel}` : ''}?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`;
    const dir = join(root, 's3');
    await mkdir(join(dir, 'eu'), { recursive: true });
    const writers = new Map<string, AppProcess>([
      ['one.db', await writer(join(dir, 'one.db'), 20)],
      ['eu/two.db', await writer(join(dir, 'eu', 'two.db'), 20)],
    ]);
    const config = join(root, 's3.yml');
    await writeFile(config, `dbs:\n  - dir: ${dir}\n    pattern: "*.db"\n    recursive: true\n    watch: true\n    replica:\n      url: "${url('')}"\n`);
    const cli = new RunningCli(['replicate', '-config', config], { env });
    stops.push(async () => void cli.child.kill('SIGKILL'));
    await cli.waitFor('msg="watching directory for databases"');
    const third = join(dir, 'eu', 'three.db');
    writers.set('eu/three.db', await writer(third, 20));
    await cli.waitFor(`msg="added database to replication" dir=${dir} db=${third}`, 5000);
    for (const app of writers.values()) await app.insert(5, 3000);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.stdout + cli.stderr).toBe(0);
    for (const [rel, app] of writers) {
      const out = join(root, `s3-restored-${rel.replaceAll('/', '_')}`);
      const r = await litestreamAsync(['restore', '-o', out, url(rel)], { env });
      expect(r.status, r.stderr).toBe(0);
      expect(await sha256(out), rel).toBe(await app.hash());
      // By path too: the dir entry of the config gives the replica.
      const byPath = `${out}-by-path`;
      const p = await litestreamAsync(['restore', '-config', config, '-o', byPath, join(dir, rel)], { env });
      expect(p.status, p.stderr).toBe(0);
      expect(await sha256(byPath), rel).toBe(await app.hash());
    }
  }, 120_000);
});
