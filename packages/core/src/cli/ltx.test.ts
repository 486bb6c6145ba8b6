import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goldenDir } from '../test-support/paths.ts';
import { runBin } from '../test-support/run-bin.ts';

const LTX = 'packages/core/bin/ltx.js';
const work = await mkdtemp(join(tmpdir(), 'ltx-cli-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** A database made by the sqlite3 shell: small rows, rows on overflow pages, an index. */
function makeDatabase(path: string, pageSize: number): void {
  const sql = `PRAGMA page_size=${pageSize};
    CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, body BLOB);
    CREATE INDEX t_name ON t(name);
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 400)
      INSERT INTO t SELECT i, 'row-' || i, randomblob(CASE WHEN i % 50 = 0 THEN 3 * ${pageSize} ELSE 40 END) FROM n;`;
  execFileSync('sqlite3', [path, sql]);
}

describe('ltx command', () => {
  for (const pageSize of [512, 4096, 65536]) {
    it(`encode-db then apply reproduces a ${pageSize}-byte-page database byte for byte`, async () => {
      const db = join(work, `src-${pageSize}.db`);
      makeDatabase(db, pageSize);
      const ltx = join(work, `snap-${pageSize}.ltx`);
      const enc = runBin(LTX, ['encode-db', db, ltx]);
      expect(enc.stderr).toBe('');
      expect(enc.status).toBe(0);
      expect(enc.stdout).toMatch(new RegExp(`snapshot of \\d+ pages \\(page size ${pageSize}`));

      const verify = runBin(LTX, ['verify', ltx]);
      expect(verify.status).toBe(0);
      expect(verify.stdout).toMatch(/: ok \(TXID 0000000000000001-0000000000000001/);

      const out = join(work, `restored-${pageSize}.db`);
      const apply = runBin(LTX, ['apply', out, ltx]);
      expect(apply.status, apply.stderr).toBe(0);
      expect(await sha256(out)).toBe(await sha256(db));

      const sum = runBin(LTX, ['checksum', out]);
      const post = /post-apply checksum ([0-9a-f]{16})/.exec(enc.stdout)![1];
      expect(sum.stdout.split(' ')[0]).toBe(post);
    });
  }

  it('applies the reference chain and matches state4.db', async () => {
    const dir = join(goldenDir(), 'set-4096');
    const files = [1, 2, 3, 4].map((n) => join(dir, 'ltx', `${n.toString(16).padStart(16, '0')}-${n.toString(16).padStart(16, '0')}.ltx`));
    const out = join(work, 'chain.db');
    const r = runBin(LTX, ['apply', out, ...files]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/applied 4 file\(s\), position 0000000000000004\/[0-9a-f]{16}/);
    expect(await sha256(out)).toBe(await sha256(join(dir, 'state4.db')));
  });

  it('dump --json and list --json describe the file', async () => {
    const dir = join(goldenDir(), 'set-512', 'ltx');
    const dump = runBin(LTX, ['dump', '--json', join(dir, '0000000000000002-0000000000000002.ltx')]);
    expect(dump.status, dump.stderr).toBe(0);
    const parsed = JSON.parse(dump.stdout) as { header: Record<string, unknown>; pages: Array<{ pgno: number }>; pageIndex: Array<{ pgno: number }>; trailer: Record<string, string> };
    expect(parsed.header).toMatchObject({ pageSize: 512, minTXID: '0000000000000002', maxTXID: '0000000000000002', timestamp: new Date(1_700_000_002_000).toISOString() });
    expect(parsed.pages.length).toBeGreaterThan(0);
    expect(parsed.pageIndex.map((e) => e.pgno)).toEqual(parsed.pages.map((p) => p.pgno));
    expect(parsed.trailer.fileChecksum).toMatch(/^[89a-f][0-9a-f]{15}$/);

    const text = runBin(LTX, ['dump', join(dir, '0000000000000001-0000000000000001.ltx')]);
    expect(text.stdout).toMatch(/^Header$/m);
    expect(text.stdout).toMatch(/^Trailer$/m);

    const list = runBin(LTX, ['list', '--json', dir]);
    const rows = JSON.parse(list.stdout) as Array<{ file: string; minTXID: string; pageSize: number }>;
    expect(rows.map((r) => r.minTXID)).toEqual(['0000000000000001', '0000000000000002', '0000000000000002', '0000000000000003', '0000000000000004']);
    expect(rows.every((r) => r.pageSize === 512)).toBe(true);
  });

  describe('errors are one clear line and a non-zero exit', () => {
    it('names a missing file', () => {
      const r = runBin(LTX, ['verify', join(work, 'nope.ltx')]);
      expect(r.status).toBe(1);
      expect(r.stdout.trim()).toBe(`${join(work, 'nope.ltx')}: no such file or directory`);
      const e = runBin(LTX, ['encode-db', join(work, 'nope.db'), join(work, 'x.ltx')]);
      expect(e.status).toBe(1);
      expect(e.stderr).toBe(`ltx: ${join(work, 'nope.db')}: no such file or directory\n`);
    });

    it('names the corrupt file and the checksum that failed, and leaves no output database', async () => {
      const src = join(goldenDir(), 'set-4096', 'ltx', '0000000000000001-0000000000000001.ltx');
      const bad = join(work, 'bad.ltx');
      const bytes = await readFile(src);
      bytes[40 - 1]! ^= 0x01; // timestamp byte: no structural rule breaks, only the file checksum
      await writeFile(bad, bytes);
      const v = runBin(LTX, ['verify', bad]);
      expect(v.status).toBe(1);
      expect(v.stdout).toMatch(new RegExp(`^${bad}: file checksum mismatch: stored [0-9a-f]{16}, computed [0-9a-f]{16}\\n$`));
      const outDir = join(work, 'apply-bad');
      await mkdir(outDir);
      const a = runBin(LTX, ['apply', join(outDir, 'out.db'), bad]);
      expect(a.status).toBe(1);
      expect(a.stderr.trim().split('\n')).toHaveLength(1);
      expect(a.stderr).toMatch(/^ltx: .*bad\.ltx: file checksum mismatch/);
      expect(await readdir(outDir)).toEqual([]);
    });

    it('refuses a chain with a gap, naming the file', () => {
      const dir = join(goldenDir(), 'set-512', 'ltx');
      const r = runBin(LTX, ['apply', join(work, 'gap.db'), join(dir, '0000000000000001-0000000000000001.ltx'), join(dir, '0000000000000003-0000000000000003.ltx')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/0000000000000003\.ltx: covers TXIDs 0000000000000003\.\.0000000000000003 but the database is at TXID 0000000000000001: it does not follow/);
    });

    it('refuses a non-snapshot first file unless --from-txid is given', async () => {
      const dir = join(goldenDir(), 'set-512');
      const r = runBin(LTX, ['apply', join(work, 'x.db'), join(dir, 'ltx', '0000000000000002-0000000000000002.ltx')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is not a snapshot \(min TXID 0000000000000002\) and no database was opened/);
      const db = join(work, 'from1.db');
      await copyFile(join(dir, 'state1.db'), db);
      const ok = runBin(LTX, ['apply', '--from-txid', '1', db, join(dir, 'ltx', '0000000000000002-0000000000000002.ltx')]);
      expect(ok.status, ok.stderr).toBe(0);
      expect(await sha256(db)).toBe(await sha256(join(dir, 'state2.db')));
    });

    it('rejects an unknown command with usage help and exit code 2', () => {
      const r = runBin(LTX, ['frobnicate']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    });

    it('refuses a file that is not SQLite for encode-db', async () => {
      const notDb = join(work, 'not.db');
      await writeFile(notDb, 'hello');
      const r = runBin(LTX, ['encode-db', notDb, join(work, 'y.ltx')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`ltx: ${notDb}: not a SQLite database (bad header)\n`);
    });

    it('refuses a file that is not SQLite for apply --from-txid, naming it (not its temporary copy)', async () => {
      const notDb = join(work, 'not-apply.db');
      await writeFile(notDb, 'hello');
      const r = runBin(LTX, ['apply', '--from-txid', '1', notDb, join(goldenDir(), 'set-512', 'ltx', '0000000000000002-0000000000000002.ltx')]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`ltx: ${notDb}: not a SQLite database (bad header)\n`);
      expect(await readFile(notDb, 'utf8')).toBe('hello');
    });
  });
});
