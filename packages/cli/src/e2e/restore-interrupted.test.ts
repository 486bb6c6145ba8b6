import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3, type S3Service } from '@litestream-ts/testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync, RunningCli } from './cli-process.ts';
import { startThrottledProxy, type ThrottledProxy } from './throttled-proxy.ts';

// A restore that is killed, stopped by a signal, or races another restore of the same output
// (issue 10, case 9): the real binary restores from a real S3 server through a proxy that
// answers at 2 MB/s, so a ~12 MB restore takes ~6 s and can be caught midway.
const dir = await mkdtemp(join(tmpdir(), 'lts-restore-int-'));
let s3: S3Service;
let slow: ThrottledProxy;
let env: Record<string, string>;
let writerHash = '';
const replica = (endpoint: string) => `s3://lts-int/app?endpoint=${endpoint}&force-path-style=true&region=${s3.region}`;
let outs = 0;

beforeAll(async () => {
  s3 = await startS3();
  await s3.createBucket('lts-int');
  env = { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey };
  slow = await startThrottledProxy(s3.endpoint, 2 * 1024 * 1024);
  // A snapshot and three incrementals of ~3 MB of random (incompressible) rows each.
  const db = join(dir, 'app.db');
  const app = new AppProcess(db);
  for (let i = 0; i < 4; i++) {
    await app.request({ op: 'exec', sql: randomRows(600, 5000) });
    const r = await litestreamAsync(['replicate', '-once', db, replica(s3.endpoint)], { env });
    expect(r.status, r.stderr + r.stdout).toBe(0);
  }
  writerHash = await app.hash();
  await app.close();
}, 120_000);
afterAll(async () => {
  await slow?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** SQL inserting `rows` rows of `bytes` random (incompressible) bytes in one transaction. */
const randomRows = (rows: number, bytes: number) =>
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO t(body) SELECT randomblob(${bytes}) FROM n`;
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** A fresh directory for one output database. */
async function outDir(): Promise<string> {
  const out = join(dir, `out-${++outs}`);
  await mkdir(out);
  return out;
}

/** Every file under `root` (two levels deep), with its size, except `except`. */
async function filesUnder(root: string, except: string): Promise<Array<{ path: string; size: number }>> {
  const found: Array<{ path: string; size: number }> = [];
  for (const name of await readdir(root)) {
    const path = join(root, name);
    if (path === except) continue;
    const info = await lstat(path);
    if (info.isDirectory()) {
      for (const inner of await readdir(path)) found.push({ path: join(path, inner), size: (await lstat(join(path, inner))).size });
    } else found.push({ path, size: info.size });
  }
  return found;
}

/** True when `path` starts like a SQLite database. */
async function looksLikeSqlite(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch(() => undefined);
  if (!fh) return false;
  try {
    const head = Buffer.alloc(16);
    await fh.read(head, 0, 16, 0);
    return head.toString('latin1') === 'SQLite format 3\0';
  } finally {
    await fh.close();
  }
}

/**
 * Starts a slow restore into `out` and resolves once it is midway: a partial database (not
 * yet `out`) with the snapshot applied exists beside it, and files are still downloading.
 * Looks at names only by content, so it works with any naming of the temporary files.
 */
async function slowRestoreMidway(out: string): Promise<RunningCli> {
  const cli = new RunningCli(['restore', '-o', out, '-parallelism', '1', replica(slow.url)], { env });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (cli.child.exitCode !== null) throw new Error(`restore finished before it could be interrupted:\n${cli.stderr}`);
    if (Date.now() > deadline) throw new Error(`restore never got midway:\n${cli.stderr}`);
    const files = await filesUnder(join(out, '..'), out).catch(() => []);
    const partial = [];
    for (const f of files) if (f.size > 1_000_000 && (await looksLikeSqlite(f.path))) partial.push(f);
    if (partial.length > 0) return cli;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('an interrupted restore leaves nothing behind for long', () => {
  it('SIGKILL midway leaves a partial database; the next restore removes it, says so, and equals the writer', async () => {
    const outputDir = await outDir();
    const out = join(outputDir, 'app.db');
    const killed = await slowRestoreMidway(out);
    killed.child.kill('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');

    // What a SIGKILL leaves: hidden files beside the output, one of them a partial SQLite database.
    const left = await filesUnder(outputDir, out);
    expect(left.length).toBeGreaterThan(0);
    const partials = [];
    for (const f of left) if (await looksLikeSqlite(f.path)) partials.push(f.path);
    expect(partials, JSON.stringify(left)).not.toEqual([]);
    expect(await readdir(outputDir)).not.toContain('app.db');

    const again = await litestreamAsync(['restore', '-o', out, replica(s3.endpoint)], { env });
    expect(again.status, again.stderr).toBe(0);
    expect(await readdir(outputDir)).toEqual(['app.db']);
    expect(await sha256(out)).toBe(writerHash);
    // The removal is logged with what was removed.
    expect(again.stderr).toMatch(/removed the files of an interrupted restore/);
    for (const name of new Set(left.map((f) => f.path.slice(outputDir.length + 1).split('/')[0]!))) expect(again.stderr).toContain(join(outputDir, name));
  }, 90_000);

  it('SIGTERM midway stops the restore, removes its partial files and exits 143', async () => {
    const outputDir = await outDir();
    const out = join(outputDir, 'app.db');
    const stopped = await slowRestoreMidway(out);
    stopped.child.kill('SIGTERM');
    const { code, signal } = await stopped.exited;
    expect({ code, signal }, stopped.stderr).toEqual({ code: 143, signal: null });
    expect(stopped.stderr).toContain(`litestream: restore of ${out} interrupted by SIGTERM; its partial files were removed`);
    expect(await readdir(outputDir)).toEqual([]);
  }, 90_000);

  it('SIGINT midway does the same and exits 130', async () => {
    const outputDir = await outDir();
    const out = join(outputDir, 'app.db');
    const stopped = await slowRestoreMidway(out);
    stopped.child.kill('SIGINT');
    const { code } = await stopped.exited;
    expect(code, stopped.stderr).toBe(130);
    expect(await readdir(outputDir)).toEqual([]);
  }, 90_000);

  it('a restore of the same output does not touch the files of one still running in another process', async () => {
    const outputDir = await outDir();
    const out = join(outputDir, 'app.db');
    const running = await slowRestoreMidway(out);
    const theirs = (await readdir(outputDir)).filter((name) => name !== 'app.db');
    expect(theirs).not.toEqual([]);

    const second = await litestreamAsync(['restore', '-o', out, replica(s3.endpoint)], { env });
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/kept the files of a restore that is still running/);
    // Still there, and the first restore still running.
    expect(running.child.exitCode).toBeNull();
    expect(await readdir(outputDir)).toEqual(expect.arrayContaining(theirs));
    expect(await sha256(out)).toBe(writerHash);

    // The first one cannot publish over the second's result; it fails and cleans up after itself.
    const { code } = await running.exited;
    expect(code, running.stderr).toBe(1);
    expect(running.stderr).toMatch(/already exists/);
    expect(await readdir(outputDir)).toEqual(['app.db']);
  }, 90_000);
});
