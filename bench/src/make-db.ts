/**
 * Builds the benchmark databases once with the `sqlite3` shell and caches them under
 * `.bench-data/`. The data aims at what LZ4 sees in real databases, page by page (LTX
 * compresses each 4 KiB page on its own): a rowid table of "orders"-like rows with
 * random keys, hex UUIDs, text of varied length cut from an English/JSON/HTTP-log corpus,
 * blobs that are random (incompressible), half zeros, or random + text, and a two-column
 * index. Pages end up ~2.5x compressible with per-page LZ4.
 *
 * Run alone: `node src/make-db.ts` (builds both), or imported by the codec bench.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, ensureDataDir, fmtBytes, MiB, runOk } from './common.ts';

/** Bump when the generator changes, so cached files are rebuilt. */
const GENERATOR_VERSION = 1;
const PAGE_SIZE = 4096;
const CALIBRATION_ROWS = 50_000;

const CORPUS =
  'the quick brown fox jumps over the lazy dog while the customer order was shipped to the warehouse in berlin and ' +
  'the invoice number was recorded alongside status pending approved rejected refunded; lorem ipsum dolor sit amet ' +
  'consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim ' +
  'veniam quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat ' +
  '{"user":{"id":12345,"name":"Ada Lovelace","email":"ada@example.com","roles":["admin","editor"]},' +
  '"settings":{"theme":"dark","locale":"en-GB","notifications":true}} duis aute irure dolor in reprehenderit in ' +
  'voluptate velit esse cillum dolore eu fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt in ' +
  'culpa qui officia deserunt mollit anim id est laborum GET /api/v2/orders?page=3&limit=50 HTTP/1.1 200 OK ' +
  'content-type: application/json; charset=utf-8 x-request-id: 7f3c9a2e the replication stream carries pages and ' +
  'checksums to object storage every second';

function generatorSql(rows: number): string {
  const corpus = CORPUS.replaceAll("'", "''");
  return `
PRAGMA page_size=${PAGE_SIZE};
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-524288;
CREATE TABLE items(
  id INTEGER PRIMARY KEY,
  account INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  uuid TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT,
  payload BLOB
);
CREATE TEMP TABLE corpus(t TEXT);
INSERT INTO corpus VALUES('${corpus}');
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
INSERT INTO items(account, created_at, uuid, title, body, payload)
SELECT abs(random()) % 100000,
       1700000000 + abs(random()) % 50000000,
       lower(hex(randomblob(16))),
       substr(c.t, 1 + abs(random()) % 700, 8 + abs(random()) % 80),
       substr(c.t, 1 + abs(random()) % 300, 40 + abs(random()) % 500) || ' #' || (abs(random()) % 1000000),
       CASE abs(random()) % 4
         WHEN 0 THEN randomblob(64 + abs(random()) % 400)
         WHEN 1 THEN randomblob(16 + abs(random()) % 64) || zeroblob(64 + abs(random()) % 600)
         ELSE randomblob(8 + abs(random()) % 48) || CAST(substr(c.t, 1 + abs(random()) % 500, 100 + abs(random()) % 500) AS BLOB)
       END
FROM n, corpus c;
COMMIT;
CREATE INDEX items_account ON items(account, created_at);
`;
}

export interface BenchDatabase {
  name: string;
  path: string;
  bytes: number;
  pageSize: number;
  pageCount: number;
  rows: number;
  /** Seconds the generation took (when this run built it; otherwise from the cache record). */
  generateSeconds: number;
  cached: boolean;
  generatorVersion: number;
}

async function generate(path: string, rows: number): Promise<void> {
  rmSync(path, { force: true });
  await runOk('sqlite3', ['-batch', '-bail', path, generatorSql(rows)]);
}

async function pragmaInt(path: string, pragma: string): Promise<number> {
  const r = await runOk('sqlite3', ['-batch', '-readonly', path, `PRAGMA ${pragma};`]);
  return Number(r.stdout.trim());
}

let bytesPerRow: number | undefined;

/** Bytes a row takes in the generated file (table + index), measured on a small sample. */
async function calibrate(): Promise<number> {
  if (bytesPerRow !== undefined) return bytesPerRow;
  const path = join(dataDir, 'calibration.sqlite');
  await generate(path, CALIBRATION_ROWS);
  bytesPerRow = statSync(path).size / CALIBRATION_ROWS;
  rmSync(path, { force: true });
  return bytesPerRow;
}

/**
 * Returns the cached database `name` of about `targetBytes`, building it first when it is
 * missing or was made by an older generator. Progress goes to stderr.
 */
export async function ensureDatabase(name: string, targetBytes: number): Promise<BenchDatabase> {
  ensureDataDir();
  const path = join(dataDir, `${name}.sqlite`);
  const metaPath = join(dataDir, `${name}.json`);
  if (existsSync(path) && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as BenchDatabase;
    if (meta.generatorVersion === GENERATOR_VERSION && statSync(path).size === meta.bytes) return { ...meta, path, cached: true };
  }
  const perRow = await calibrate();
  const rows = Math.ceil(targetBytes / perRow);
  process.stderr.write(`generating ${name} (~${fmtBytes(targetBytes)}, ${rows.toLocaleString('en-US')} rows) with sqlite3 ... `);
  const tmp = `${path}.tmp`;
  const start = performance.now();
  await generate(tmp, rows);
  const generateSeconds = (performance.now() - start) / 1000;
  const db: BenchDatabase = {
    name,
    path,
    bytes: statSync(tmp).size,
    pageSize: await pragmaInt(tmp, 'page_size'),
    pageCount: await pragmaInt(tmp, 'page_count'),
    rows,
    generateSeconds,
    cached: false,
    generatorVersion: GENERATOR_VERSION,
  };
  renameSync(tmp, path);
  writeFileSync(metaPath, JSON.stringify(db, null, 2) + '\n');
  process.stderr.write(`${fmtBytes(db.bytes)} in ${generateSeconds.toFixed(1)} s\n`);
  return db;
}

/** The two databases the codec bench uses. */
export const DATABASES = [
  { name: 'db-256mib', targetBytes: 256 * MiB },
  { name: 'db-1gib', targetBytes: 1024 * MiB },
] as const;

/** DESIGN.md §7's peak-RSS figure is for a 4 GiB database (skip with BENCH_LARGE=0). */
export const LARGE_DATABASE = { name: 'db-4gib', targetBytes: 4096 * MiB } as const;

if (import.meta.main) {
  for (const d of process.env.BENCH_LARGE === '0' ? DATABASES : [...DATABASES, LARGE_DATABASE]) {
    const db = await ensureDatabase(d.name, d.targetBytes);
    console.log(`${db.path}: ${fmtBytes(db.bytes)}, ${db.pageCount} pages of ${db.pageSize}, ${db.rows} rows${db.cached ? ' (cached)' : ''}`);
  }
}
