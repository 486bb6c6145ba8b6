import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3, type S3Service } from '@litestream-ts/testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync, RunningCli } from './cli-process.ts';
import { litestreamOnTinyFs, runningOnTinyFs, tinyFsUnavailable } from './tiny-fs.ts';

// Local files that cannot be written or read as databases (issue 10, case 10): each error names
// the path and why, and a local write failure is not retried as if the replica had failed.
//
// Full disks are real: a tmpfs of a few KiB in a private mount namespace (see tiny-fs.ts). CI
// runs on Linux, where `unshare -rm` works (as root, and for other users where unprivileged
// user namespaces are allowed), so under CI=true a machine without it fails these tests
// rather than skipping them; elsewhere (macOS, locked-down kernels) they are skipped, saying why.
const dir = await mkdtemp(join(tmpdir(), 'lts-local-errors-'));
const unavailable = tinyFsUnavailable();
if (unavailable) {
  if (process.env.CI === 'true') throw new Error(`disk-full tests need a tmpfs in a private mount namespace: ${unavailable}`);
  console.warn(`skipping the disk-full tests: ${unavailable}`);
}
const diskFull = unavailable ? it.skip : it;

/** SQL inserting `rows` rows of `bytes` random (incompressible) bytes in one transaction. */
const randomRows = (rows: number, bytes: number) =>
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO t(body) SELECT randomblob(${bytes}) FROM n`;

let db = '';
let app: AppProcess;
const fileReplica = join(dir, 'replica');
let s3: S3Service;
let s3Url = '';
let s3Env: Record<string, string> = {};

beforeAll(async () => {
  db = join(dir, 'app.db');
  app = new AppProcess(db);
  await app.request({ op: 'exec', sql: randomRows(200, 4000) }); // ~1 MB: far more than the tmpfs below holds
  const r = await litestreamAsync(['replicate', '-once', db, `file://${fileReplica}`]);
  expect(r.status, r.stderr + r.stdout).toBe(0);
  s3 = await startS3();
  await s3.createBucket('lts-local');
  s3Url = `s3://lts-local/app?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`;
  s3Env = { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey };
  const up = await litestreamAsync(['replicate', '-once', db, s3Url], { env: s3Env });
  expect(up.status, up.stderr + up.stdout).toBe(0);
}, 120_000);
afterAll(async () => {
  await app?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a full disk is named, and not retried as a download', () => {
  diskFull('restore from a file replica onto a full disk names the output path and the cause, and leaves nothing', async () => {
    const mount = join(dir, 'full-1');
    const out = join(mount, 'restored.db');
    const r = await litestreamOnTinyFs(mount, '128k', ['restore', '-o', out, `file://${fileReplica}`]);
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split('\n').find((l) => l.startsWith('litestream: '))!;
    expect(line).toContain(mount);
    expect(line).toContain(out);
    expect(line).toContain('no space left on device (ENOSPC)');
    expect(line).not.toMatch(/attempt/);
    expect(r.stderr).toContain(`left in ${mount}: []`);
  }, 60_000);

  diskFull('restore from S3 onto a full disk fails at the first local write, names the output path, and downloads each file once', async () => {
    const mount = join(dir, 'full-2');
    const out = join(mount, 'restored.db');
    s3.clearRequests();
    const r = await litestreamOnTinyFs(mount, '128k', ['restore', '-o', out, s3Url], s3Env);
    expect(r.status, r.stderr).toBe(1);
    const line = r.stderr.split('\n').find((l) => l.startsWith('litestream: '))!;
    expect(line).toContain(mount);
    expect(line).toContain(out);
    expect(line).toContain('no space left on device (ENOSPC)');
    expect(line).not.toMatch(/download failed|attempt/);
    const gets = s3.requests().filter((q) => q.method === 'GET' && q.path.endsWith('.ltx'));
    expect(gets.length).toBeGreaterThan(0);
    const perFile = new Map<string, number>();
    for (const q of gets) perFile.set(q.path, (perFile.get(q.path) ?? 0) + 1);
    expect([...perFile.values()].every((n) => n === 1), JSON.stringify([...perFile])).toBe(true);
    expect(r.stderr).toContain(`left in ${mount}: []`);
  }, 60_000);

  diskFull('replicate with its meta path on a full disk logs the staging path and the cause', async () => {
    const meta = join(dir, 'meta-full');
    const config = join(dir, 'meta-full.yml');
    await writeFile(config, `dbs:\n  - path: ${db}\n    meta-path: ${meta}\n    replica:\n      url: file://${join(dir, 'replica-meta')}\n`);
    const cli = runningOnTinyFs(meta, '128k', ['replicate', '-config', config]);
    try {
      await cli.waitFor('replicating to');
      await cli.waitFor('snapshot written');
      // ~1 MB of changed pages: staged as one L0 file in the meta path, which cannot hold it.
      await app.request({ op: 'exec', sql: randomRows(200, 4000) });
      await cli.waitFor('no space left on device', 30_000);
      const lines = (cli.stdout + cli.stderr).split('\n').filter((l) => l.includes('no space left on device'));
      expect(lines[0]).toContain(join(meta, 'ltx', '0'));
      expect(lines[0]).toContain('(ENOSPC)');
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }, 60_000);
});

describe('a file that is not a database is named', () => {
  it('replicate on a file that is not SQLite names the file', async () => {
    const junk = join(dir, 'junk.db');
    await writeFile(junk, 'this is not a database\n'.repeat(500));
    const cli = new RunningCli(['replicate', junk, `file://${join(dir, 'replica-junk')}`]);
    try {
      await cli.waitFor('not a database', 30_000);
      const line = (cli.stdout + cli.stderr).split('\n').find((l) => l.includes('not a database'))!;
      expect(line).toContain(junk);
    } finally {
      cli.child.kill('SIGKILL');
      await cli.exited;
    }
  }, 60_000);
});
