/**
 * The databases of the peer comparison: the cached generated databases of `make-db.ts`
 * (200 MB for the writers, 600 MB for restore, 1 GB for the initial snapshot; scaled by
 * BENCH_SCALE), fresh working copies of them for each run, the small databases of the idle
 * figures, and the check that a restored database equals its source.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { dataDir, MiB } from '../common.ts';
import { ensureDatabase, type BenchDatabase } from '../make-db.ts';
import { settings } from './settings.ts';

export type DbRole = 'steady' | 'restore' | 'snapshot';

const NOMINAL: Record<DbRole, { mib: number; name: string }> = {
  steady: { mib: 200, name: 'db-200mb' },
  restore: { mib: 600, name: 'db-600mb' },
  snapshot: { mib: 1024, name: 'db-1gib' },
};

/** The cached source database of a role (built by make-db.ts on first use). */
export async function sourceDatabase(role: DbRole): Promise<BenchDatabase> {
  const n = NOMINAL[role];
  const scale = settings.scale;
  if (scale === 1) return ensureDatabase(n.name, n.mib * MiB);
  const mib = Math.max(1, Math.round(n.mib * scale));
  return ensureDatabase(`db-peer-${mib}mib`, mib * MiB);
}

/** Tables the writers use; created in every working copy before a replicator sees it. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS bench_log(id INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS marks(k INTEGER PRIMARY KEY, v TEXT NOT NULL);
`;

/**
 * A working copy of `src` at `path`, in WAL mode with the writers' tables, checkpointed and
 * closed (no -wal file left), so a replicator starts from a plain file.
 */
export function workingCopy(src: BenchDatabase, path: string): string {
  execFileSync('cp', ['--reflink=auto', src.path, path]);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(SCHEMA);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return path;
}

/** Content hash of the `items` table (sqlite3 `.sha3sum`), cached beside the database. */
export function itemsHash(src: BenchDatabase): string {
  const cache = join(dataDir, `${src.name}.items-sha3.json`);
  if (existsSync(cache)) {
    const c = JSON.parse(readFileSync(cache, 'utf8')) as { bytes: number; generatorVersion: number; mtimeMs: number; sha3: string };
    if (c.bytes === src.bytes && c.generatorVersion === src.generatorVersion && c.mtimeMs === statSync(src.path).mtimeMs) return c.sha3;
  }
  const sha3 = tableHash(src.path, 'items');
  writeFileSync(cache, JSON.stringify({ bytes: src.bytes, generatorVersion: src.generatorVersion, mtimeMs: statSync(src.path).mtimeMs, sha3 }) + '\n');
  return sha3;
}

function tableHash(path: string, table: string): string {
  const out = execFileSync('sqlite3', ['-batch', '-readonly', path, `.sha3sum ${table}`], { encoding: 'utf8' }).trim();
  const m = /^([0-9a-f]{56})/.exec(out);
  if (!m) throw new Error(`.sha3sum ${table} of ${path} gave ${JSON.stringify(out)}`);
  return m[1]!;
}

/** The text of mark `k` (200 bytes), so a restored `marks` table can be checked row by row. */
export const markSql = "printf('%0200d', k)";

export interface RestoreExpectation {
  itemsSha3: string;
  /** Number of marks committed before the replica was taken (marks 1..n). */
  marks: number;
}

/**
 * Checks a restored database: `PRAGMA integrity_check` is `ok`, the `items` table hashes to
 * the source's hash, and `marks` holds exactly rows 1..n with their expected text. Throws
 * otherwise: a wrong restore fails the figure.
 */
export function verifyRestored(path: string, expect: RestoreExpectation): void {
  const db = new Database(path, { readonly: true });
  try {
    const ic = db.pragma('integrity_check', { simple: false }) as { integrity_check: string }[];
    if (ic.length !== 1 || ic[0]!.integrity_check !== 'ok') throw new Error(`restored ${path}: integrity_check: ${ic.slice(0, 5).map((r) => r.integrity_check).join('; ')}`);
    const m = db.prepare(`SELECT count(*) AS n, coalesce(sum(k), 0) AS s, coalesce(sum(v = ${markSql}), 0) AS ok FROM marks`).get() as { n: number; s: number; ok: number };
    const n = expect.marks;
    if (m.n !== n || m.s !== (n * (n + 1)) / 2 || m.ok !== n) throw new Error(`restored ${path}: marks has ${m.n} rows (sum ${m.s}, ${m.ok} intact), expected 1..${n}`);
  } finally {
    db.close();
  }
  const h = tableHash(path, 'items');
  if (h !== expect.itemsSha3) throw new Error(`restored ${path}: items hash ${h} differs from the source's ${expect.itemsSha3}`);
}

/**
 * `n` small databases in `dir` (`idle-0.db` …), each with a `-wal` file holding a few
 * committed transactions: one is written with checkpoints off, and its main file and WAL are
 * copied while its connection is still open (closing it would checkpoint and delete the WAL).
 */
export function smallDatabasesWithWal(dir: string, n: number): string[] {
  const template = join(dir, 'template.db');
  const db = new Database(template);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  db.pragma('wal_checkpoint(TRUNCATE)'); // the schema in the main file; what follows stays in the WAL
  const insert = db.prepare('INSERT INTO notes(body) VALUES (?)');
  for (let i = 0; i < 4; i++) insert.run(`note ${i} `.repeat(40));
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `idle-${i}.db`);
    copyFileSync(template, p);
    copyFileSync(`${template}-wal`, `${p}-wal`);
    paths.push(p);
  }
  const walBytes = statSync(`${template}-wal`).size;
  db.close();
  if (walBytes < 4096) throw new Error(`idle template WAL is ${walBytes} bytes; expected committed frames`);
  return paths;
}
