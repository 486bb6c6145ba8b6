import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import { startS3, startWebdav } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync as litestream, RunningCli } from './cli-process.ts';
import { litestreamVfs, throughVfs, type VfsReplica } from './test-support/litestream-vfs.ts';

// Interop with the real Litestream v0.5.17, whose own code ships as a SQLite VFS extension:
// replicas our `replicate` writes are read by it, replicas it writes are restored by our
// `restore`, on each backend where the extension works against our test services:
// - file, s3 (our local S3 server), webdav (rclone serve webdav): both directions;
// - not run: oss (its oss:// URL takes no endpoint, so it cannot be pointed at a local server);
// - not run: nats: the extension reads our NATS replicas right about 2 runs in 3, else fails
//   to open ("cannot build index … read ltx page index: context canceled"), and crashes
//   (SIGSEGV) when it writes to NATS;
// - not run: abs (its abs:// URL takes no endpoint, so it cannot be pointed at Azurite);
//   gs and sftp (the extension fails to open, or hangs, on our emulator and sshd: not yet
//   diagnosed, see the issue's closing note).
const vfs = litestreamVfs();
if ('skip' in vfs && process.env.CI === 'true') throw new Error(`CI needs the Litestream v0.5.17 VFS extension: ${vfs.skip}`);
const skip = 'skip' in vfs ? vfs.skip : undefined;
if (skip) console.warn(`[interop-v05] skipped: ${skip}`);
const extension = 'path' in vfs ? vfs.path : '';

const dir = await mkdtemp(join(tmpdir(), 'lts-interop-'));
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
  if (!process.env.LTS_KEEP) await rm(dir, { recursive: true, force: true });
});

/** One backend: the URL and environment our CLI uses, and how the extension reaches the same replica. */
interface Target {
  readonly url: string;
  readonly env: Record<string, string>;
  readonly vfs: VfsReplica;
}

const same = (url: string, env: Record<string, string> = {}): Target => ({ url, env, vfs: { url, env } });

const backends: Record<string, (path: string) => Promise<Target>> = {
  file: async (path) => same(`file://${join(dir, path)}`),
  s3: async (path) => {
    const s3 = await startS3();
    stops.push(() => s3.stop());
    await s3.createBucket('interop');
    const env = { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey };
    return same(`s3://interop/${path}?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`, env);
  },
  webdav: async (path) => {
    const dav = await startWebdav();
    stops.push(() => dav.stop());
    return same(`webdav://${dav.username}:${encodeURIComponent(dav.password)}@127.0.0.1:${dav.port}/interop/${path}`);
  },
};

/** Rows of a local database file, as the child prints them (arrays of column values). */
function rowsOf(path: string, sql: string): unknown[][] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const statement = db.prepare(sql);
    statement.setReturnArrays(true);
    return JSON.parse(JSON.stringify(statement.all())) as unknown[][];
  } finally {
    db.close();
  }
}

const ROWS = 'SELECT id, body FROM t ORDER BY id';
let logs = 0;
const logFile = () => join(dir, `vfs-${++logs}.log`);

/** The highest TXID our `ltx` lists on a replica. */
async function maxTxid(target: Target): Promise<string> {
  const r = await litestream(['ltx', '-json', target.url], { env: target.env });
  expect(r.status, r.stderr).toBe(0);
  const files = JSON.parse(r.stdout) as Array<{ maxTXID: string }>;
  return files.map((f) => f.maxTXID).sort().pop()!;
}

/** Our `restore` (latest, or at `txid`) into a new file, with SQLite's full integrity check. */
async function restore(target: Target, out: string, txid?: string): Promise<void> {
  const r = await litestream(['restore', '-o', out, '-integrity-check', 'full', ...(txid ? ['-txid', txid] : []), target.url], { env: target.env });
  expect(r.status, r.stderr + r.stdout).toBe(0);
  expect(rowsOf(out, 'PRAGMA integrity_check')).toEqual([['ok']]);
}

/**
 * Litestream v0.5.17's VFS keeps, after a database shrinks, the pages past the new end in its
 * page map: SQLite's integrity_check through it then reports exactly those pages as "never
 * used" (and nothing else). Its rows are right; our restore of the same replica checks clean.
 */
function expectCleanOrPastCommitOnly(check: unknown, pagesAfterShrink: number): void {
  const text = (check as string[][])[0]![0]!;
  if (text === 'ok') return;
  const lines = text.split('\n');
  expect(lines[0]).toBe('*** in database main ***');
  for (const line of lines.slice(1)) {
    const page = /^Page (\d+): never used$/.exec(line);
    expect(page, line).not.toBeNull();
    expect(Number(page![1])).toBeGreaterThan(pagesAfterShrink);
  }
}

describe.skipIf(skip !== undefined)(`interop with Litestream v0.5.17${skip ? ` (skipped: ${skip})` : ''}`, () => {
  for (const [name, start] of Object.entries(backends)) {
    it(`${name}: ours → Litestream: what our replicate wrote while another process committed, the extension reads row for row`, async () => {
      const target = await start('ours');
      const db = join(dir, `${name}-ours.db`);
      const app = new AppProcess(db);
      await app.insert(20, 300);
      const config = join(dir, `${name}-ours.yml`);
      await writeFile(config, `dbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: ${JSON.stringify(target.url)}\n      sync-interval: 100ms\n`);
      const cli = new RunningCli(['replicate', '-config', config], { env: target.env });
      await cli.waitFor('snapshot written');
      for (let i = 0; i < 12; i++) {
        await app.insert(4, i % 3 === 0 ? 6000 : 200); // some rows on overflow pages
        if (i === 5) await app.request({ op: 'exec', sql: "UPDATE t SET body = 'updated-' || id WHERE id % 5 = 0" });
        if (i === 8) await app.request({ op: 'exec', sql: 'DELETE FROM t WHERE id % 7 = 0' });
        await sleep(60);
      }
      await app.close(); // last commit is in; SIGTERM makes replicate sync it before exiting
      cli.child.kill('SIGTERM');
      expect((await cli.exited).code, cli.stderr).toBe(0);
      const expected = rowsOf(db, ROWS);
      expect(expected.length).toBeGreaterThan(50);
      const [rows, check] = await throughVfs(extension, target.vfs, { sql: [ROWS, 'PRAGMA integrity_check'], logFile: logFile() });
      expect(rows).toEqual(expected);
      expect(check).toEqual([['ok']]);
    }, 90_000);

    it(`${name}: Litestream → ours: what the extension wrote over several connections, our restore rebuilds, latest and at a middle -txid`, async () => {
      const target = await start('theirs');
      const buffer = join(dir, `${name}-buffer`);
      await mkdir(buffer, { recursive: true });
      const steps: string[][] = [
        ['CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)', "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 300) INSERT INTO t (body) SELECT printf('row-%d-%s', value, hex(randomblob(150))) FROM n"],
        ["UPDATE t SET body = 'updated-' || id WHERE id % 4 = 0", 'DELETE FROM t WHERE id % 9 = 0', "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 10) INSERT INTO t (body) SELECT hex(randomblob(3000)) FROM n"],
        ["INSERT INTO t (body) VALUES ('third-1'), ('third-2')"],
        // The database shrinks. Last on purpose: a connection of v0.5.17 opened after a shrink
        // still counts the pages past the new end (see expectCleanOrPastCommitOnly) and writes
        // that old page count into page 1 of its next LTX file, with the new, smaller commit:
        // a replica no restore (Litestream's or ours) can turn into a valid database.
        ['DELETE FROM t WHERE id > 40', 'VACUUM'],
      ];
      const states: Array<{ txid: string; rows: unknown; pages: unknown }> = [];
      for (const [i, sql] of steps.entries()) {
        const results = await throughVfs(extension, target.vfs, { sql: [...sql, ROWS, 'PRAGMA page_count'], writeBuffer: join(buffer, `conn-${i}`), logFile: logFile() });
        states.push({ txid: await maxTxid(target), rows: results[sql.length], pages: (results[sql.length + 1] as number[][])[0]![0] });
      }
      // The shrink is real: fewer pages after the VACUUM than before it.
      expect(states[3]!.pages).toBeLessThan(states[2]!.pages as number);
      expect(new Set(states.map((state) => state.txid)).size).toBe(steps.length);
      const [latestRows, latestCheck] = await throughVfs(extension, target.vfs, { sql: [ROWS, 'PRAGMA integrity_check'], logFile: logFile() });
      expectCleanOrPastCommitOnly(latestCheck, states[3]!.pages as number);
      expect(latestRows).toEqual(states.at(-1)!.rows);

      const latest = join(dir, `${name}-theirs-latest.db`);
      await restore(target, latest);
      expect(rowsOf(latest, ROWS)).toEqual(latestRows);
      const middle = join(dir, `${name}-theirs-middle.db`);
      await restore(target, middle, states[1]!.txid);
      expect(rowsOf(middle, ROWS)).toEqual(states[1]!.rows);
    }, 90_000);
  }

  // A replica upgraded in the middle of its life: its older files have LZ4 *frame* pages
  // (Litestream v0.5.0–v0.5.15; the reference vectors), its newer ones block pages.
  describe('a replica whose older files are frame pages and newer ones block pages', () => {
    const vectors = join(import.meta.dirname, '../../../../testdata/ltx-v3-frame/set-4096');
    const VECTOR_ROWS = 'SELECT id, a, hex(b) FROM t ORDER BY id';
    /** The page-header flags of a replica file's first page: 0x0000 frame, 0x0001 block (after the 100-byte header and a 4-byte page number). */
    const firstPageFlags = async (file: string) => (await readFile(file)).readUInt16BE(104);

    async function vectorReplica(name: string, txids: readonly number[]): Promise<{ target: Target; level0: string }> {
      const level0 = join(dir, name, 'ltx', '0');
      await mkdir(level0, { recursive: true });
      for (const txid of txids) {
        const file = `${txid.toString(16).padStart(16, '0')}-${txid.toString(16).padStart(16, '0')}.ltx`;
        await cp(join(vectors, 'ltx', file), join(level0, file));
        expect(await firstPageFlags(join(level0, file))).toBe(0x0000);
      }
      return { target: same(`file://${join(dir, name)}`), level0 };
    }

    it('the extension continues the frame-page chain (TXID 1–2) with block pages; our restore reads both, latest and at -txid 2', async () => {
      // TXID 1–2 only: the vector chain shrinks at TXID 3, and v0.5.17's VFS mishandles a
      // chain with a shrink (see expectCleanOrPastCommitOnly), which would make its own
      // continuation unrestorable by anyone.
      const { target, level0 } = await vectorReplica('mixed-theirs', [1, 2]);
      const state2 = rowsOf(join(vectors, 'state2.db'), VECTOR_ROWS);
      const [before, beforeCheck] = await throughVfs(extension, target.vfs, { sql: [VECTOR_ROWS, 'PRAGMA integrity_check'], logFile: logFile() });
      expect(before).toEqual(state2);
      expect(beforeCheck).toEqual([['ok']]);
      const buffer = join(dir, 'mixed-theirs-buffer');
      await mkdir(buffer, { recursive: true });
      await throughVfs(extension, target.vfs, {
        sql: ["UPDATE t SET a = a || '-v3' WHERE id % 3 = 0", 'DELETE FROM t WHERE id % 7 = 0', "INSERT INTO t (a, b) VALUES ('block-page', zeroblob(5000))"],
        writeBuffer: join(buffer, 'conn'),
        logFile: logFile(),
      });
      const added = (await readdir(level0)).filter((f) => !/^000000000000000[1-2]-000000000000000[1-2]\.ltx$/.test(f));
      expect(added.length).toBeGreaterThan(0);
      for (const file of added) expect(await firstPageFlags(join(level0, file)), file).toBe(0x0001);
      // The vector databases use auto_vacuum, so the DELETE shrank the database: v0.5.17 reads it
      // back with the pages past the new end still counted (see expectCleanOrPastCommitOnly).
      // Its page_count says 96 there too, so the new size is taken from the commit field (the
      // database size in pages, at byte 12 of the LTX header) of the file it wrote.
      const commit = (await readFile(join(level0, added.sort().at(-1)!))).readUInt32BE(12);
      const [after, afterCheck] = await throughVfs(extension, target.vfs, { sql: [VECTOR_ROWS, 'PRAGMA integrity_check'], logFile: logFile() });
      expectCleanOrPastCommitOnly(afterCheck, commit);
      expect(after).not.toEqual(state2);

      const latest = join(dir, 'mixed-theirs-latest.db');
      await restore(target, latest);
      expect(rowsOf(latest, VECTOR_ROWS)).toEqual(after);
      const middle = join(dir, 'mixed-theirs-2.db');
      await restore(target, middle, '0000000000000002');
      expect(await readFile(middle)).toEqual(await readFile(join(vectors, 'state2.db')));
    }, 60_000);

    it('our replicate continues the frame-page chain (TXID 1–4) with block pages; the extension reads it, our restore reads both', async () => {
      const { target, level0 } = await vectorReplica('mixed-ours', [1, 2, 3, 4]);
      const db = join(dir, 'mixed-ours.db');
      await restore(target, db);
      expect(await readFile(db)).toEqual(await readFile(join(vectors, 'state4.db')));
      const writer = new DatabaseSync(db);
      writer.exec("PRAGMA journal_mode = wal; UPDATE t SET a = 'ours-' || id WHERE id % 5 = 0; INSERT INTO t (a, b) VALUES ('ours', zeroblob(3000))");
      writer.close();
      const r = await litestream(['replicate', '-once', db, target.url]);
      expect(r.status, r.stderr + r.stdout).toBe(0);
      const added = (await readdir(level0)).filter((f) => !/^000000000000000[1-4]-000000000000000[1-4]\.ltx$/.test(f));
      expect(added.length).toBeGreaterThan(0);
      for (const file of added) expect(await firstPageFlags(join(level0, file)), file).toBe(0x0001);
      const expected = rowsOf(db, VECTOR_ROWS);
      const [rows, check] = await throughVfs(extension, target.vfs, { sql: [VECTOR_ROWS, 'PRAGMA integrity_check'], logFile: logFile() });
      expect(rows).toEqual(expected);
      expect(check).toEqual([['ok']]);
      const latest = join(dir, 'mixed-ours-latest.db');
      await restore(target, latest);
      expect(rowsOf(latest, VECTOR_ROWS)).toEqual(expected);
      const middle = join(dir, 'mixed-ours-2.db');
      await restore(target, middle, '0000000000000002');
      expect(await readFile(middle)).toEqual(await readFile(join(vectors, 'state2.db')));
    }, 60_000);
  });
});
