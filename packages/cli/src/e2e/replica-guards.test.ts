import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { makeRollbackJournalDatabase } from '../../../core/src/test-support/rollback-journal-db.ts';
import { litestream, RunningCli, type CliResult } from './cli-process.ts';

// Issue 10, cases 2, 3, 4 and parts of 10, with the real bin: each guard refuses with one
// clear line and a non-zero exit, and what it protects (the replica) is intact afterwards.
const dir = await mkdtemp(join(tmpdir(), 'lts-guards-e2e-'));
const running: RunningCli[] = [];
afterAll(async () => {
  // A failed assertion must not leave a replicate process behind.
  for (const cli of running) if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** Starts `litestream ARGS…` in the background, killed at the end if still running. */
function start(args: readonly string[]): RunningCli {
  const cli = new RunningCli(args);
  running.push(cli);
  return cli;
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function config(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function restoredHash(replicaURL: string): Promise<string> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  const r = litestream(['restore', '-o', out, replicaURL]);
  expect(r.status, r.stderr).toBe(0);
  return sha256(out);
}

/** One `litestream:` line on stderr, exit 1. */
function expectRefused(r: CliResult, message: RegExp): string {
  expect(r.status, r.stdout + r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('litestream:'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  return lines[0]!;
}

describe('two databases, one replica (case 2)', () => {
  it('is refused at config load when one config lists both', async () => {
    const c = await config('both.yml', `dbs:\n  - path: ${join(dir, 'x.db')}\n    replica:\n      url: file://${join(dir, 'r')}/\n  - path: ${join(dir, 'y.db')}\n    replica:\n      path: ${join(dir, 'r')}\n`);
    expectRefused(litestream(['databases', '-config', c]), new RegExp(`${c}:7:\\d+: dbs\\[1\\]\\.replica\\.path: database .*y\\.db .* would replicate to the same place as .*x\\.db`));
  });

  it('is refused at run time through the owner marker when two configs (two processes) share a replica; the first backup stays whole', async () => {
    const replica = `file://${join(dir, 'shared')}`;
    const first = new AppProcess(join(dir, 'first.db'));
    const second = new AppProcess(join(dir, 'second.db'));
    await first.insert(10);
    await second.insert(40);
    expect(litestream(['replicate', '-once', join(dir, 'first.db'), replica]).status).toBe(0);
    const line = expectRefused(litestream(['replicate', '-once', join(dir, 'second.db'), replica]), /refusing to replicate .*second\.db: its replica belongs to database .*first\.db on host /);
    expect(line).toContain(`litestream reset --claim ${join(dir, 'second.db')}`);
    expect(await restoredHash(replica)).toBe(await first.hash());
    // The owner goes on as before.
    await first.insert(5);
    expect(litestream(['replicate', '-once', join(dir, 'first.db'), replica]).status).toBe(0);
    expect(await restoredHash(replica)).toBe(await first.hash());
    await first.close();
    await second.close();
  }, 60_000);

  it('lets a database moved to another path take its replica over with reset --claim', async () => {
    const replica = `file://${join(dir, 'moving')}`;
    const app = new AppProcess(join(dir, 'old.db'));
    await app.insert(10);
    expect(litestream(['replicate', '-once', join(dir, 'old.db'), replica]).status).toBe(0);
    await app.close();
    await copyFile(join(dir, 'old.db'), join(dir, 'new.db'));
    await rm(join(dir, 'old.db'));
    expectRefused(litestream(['replicate', '-once', join(dir, 'new.db'), replica]), /belongs to database .*old\.db/);
    const reset = litestream(['reset', '-claim', join(dir, 'new.db')]);
    expect(reset.status, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/the next replicate takes the replica over/);
    const moved = new AppProcess(join(dir, 'new.db'));
    await moved.insert(3);
    const r = litestream(['replicate', '-once', join(dir, 'new.db'), replica]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/replica taken over/);
    expect(await restoredHash(replica)).toBe(await moved.hash());
    await moved.close();
  }, 60_000);
});

describe('two replicate processes on one database (case 3)', () => {
  it('refuses the second without a lease, naming the other pid and the lock file; after a SIGKILL the lock is taken over', async () => {
    const db = join(dir, 'locked.db');
    const app = new AppProcess(db);
    await app.insert(10);
    const c = await config('locked.yml', `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replica:\n      url: file://${join(dir, 'locked-replica')}\n`);
    const first = start(['replicate', '-config', c]);
    await first.waitFor('initialized db');
    const line = expectRefused(litestream(['replicate', '-config', c]), /database .*locked\.db is already being replicated by process \d+ on host .*; lock file .*replicate\.lock/);
    expect(line).toContain(`process ${first.child.pid} `);
    expect(line).toContain(join(dir, '.locked.db-litestream', 'replicate.lock'));

    first.child.kill('SIGKILL');
    await first.exited;
    await app.insert(5);
    const next = start(['replicate', '-config', c]);
    // Logged once the loop runs, after the signal handlers are in place.
    await next.waitFor('replicating to');
    await app.insert(5);
    const expected = await app.hash();
    next.child.kill('SIGTERM');
    expect((await next.exited).code, next.stderr).toBe(0);
    expect(await restoredHash(`file://${join(dir, 'locked-replica')}`)).toBe(expected);
    await app.close();
  }, 60_000);

  it('refuses reset while replicate runs', async () => {
    const db = join(dir, 'busy.db');
    const app = new AppProcess(db);
    await app.insert(1);
    const busy = start(['replicate', db, `file://${join(dir, 'busy-replica')}`]);
    await busy.waitFor('initialized db');
    expectRefused(litestream(['reset', db]), new RegExp(`busy\\.db is being replicated by process ${busy.child.pid} on host .*; stop it before resetting`));
    expect(existsSync(join(dir, '.busy.db-litestream'))).toBe(true);
    busy.child.kill('SIGTERM');
    await busy.exited;
    await app.close();
  }, 60_000);
});

describe('replica locations that land somewhere else (case 4)', () => {
  it('refuses file://${UNSET}/x instead of writing at the file system root', async () => {
    const db = join(dir, 'unset.db');
    const app = new AppProcess(db);
    await app.insert(1);
    const name = `lts-guard-${process.pid}-${Date.now()}`;
    const c = await config('unset.yml', `dbs:\n  - path: ${db}\n    replica:\n      url: file://\${LTS_GUARD_UNSET}/${name}\n`);
    const r = litestream(['replicate', '-once', '-config', c]);
    const landed = existsSync(`/${name}`);
    if (landed) await rm(`/${name}`, { recursive: true, force: true });
    expect(landed, 'a replica was written at the root').toBe(false);
    expectRefused(r, new RegExp(`${c}:4:12: dbs\\[0\\]\\.replica\\.url: the replica location reads "file:///${name}" because \\$\\{LTS_GUARD_UNSET\\} is not set`));
    await app.close();
  }, 60_000);

  it('refuses s3:/bucket/x instead of making a local directory named "s3:"', async () => {
    const db = join(dir, 'one-slash.db');
    const app = new AppProcess(db);
    await app.insert(1);
    const r = litestream(['replicate', '-once', db, 's3:/bucket/x'], { cwd: dir });
    expect(existsSync(join(dir, 's3:')), 'a local directory "s3:" was made').toBe(false);
    expectRefused(r, /"s3:\/bucket\/x" is not a valid s3 URL: write s3:\/\/ with two slashes, as in s3:\/\/bucket\/x/);
    await app.close();
  }, 60_000);
});

describe('other config checks (case 10)', () => {
  it('refuses a malformed endpoint when the config is read, naming the key and the file', async () => {
    const c = await config('endpoint.yml', `dbs:\n  - path: ${join(dir, 'e.db')}\n    replica:\n      type: s3\n      bucket: b\n      endpoint: "http://[::1"\n`);
    expectRefused(litestream(['databases', '-config', c]), new RegExp(`^litestream: ${c}:6:17: dbs\\[0\\]\\.replica\\.endpoint: invalid s3 endpoint "http://\\[::1": not a URL`));
  });

  it('refuses a 300 KB path with one short line (it took minutes of CPU to report before)', async () => {
    const c = await config('long.yml', `dbs:\n  - path: ${join(dir, 'a'.repeat(300_000))}\n    replica:\n      url: file://${join(dir, 'long-replica')}\n`);
    const line = expectRefused(litestream(['replicate', '-once', '-config', c]), new RegExp(`${c}:2:11: dbs\\[0\\]\\.path: ".{32}…" is 3\\d{5} characters long; a path or URL may have at most 4096`));
    expect(line.length).toBeLessThan(500);
  }, 60_000);

  it('says so, naming the database, when replicate switches a rollback-journal database to WAL', async () => {
    const db = join(dir, 'journal.db');
    makeRollbackJournalDatabase(db);
    const r = litestream(['replicate', '-once', db, `file://${join(dir, 'journal-replica')}`]);
    expect(r.status, r.stderr).toBe(0);
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('switched to WAL mode'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/level=WARN/);
    expect(lines[0]).toContain(db);
  }, 60_000);
});
