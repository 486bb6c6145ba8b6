/**
 * The application of the writer figures, in its own process: node + better-sqlite3 on a
 * working copy, WAL mode, SQLite's defaults otherwise (wal_autocheckpoint 1000, the binding's
 * synchronous setting), busy_timeout 5 s so the replicator's short locks make it wait, not fail.
 * One transaction = INSERT of a ~200-byte row into `bench_log` + UPDATE of a random `items` row.
 *
 *   node writer-child.ts DB steady RATE SECONDS   ~RATE transactions/s on a fixed schedule
 *   node writer-child.ts DB max SECONDS           as fast as possible
 *   node writer-child.ts DB lag N MIN_MS MAX_MS   N isolated transactions, random gaps; the row
 *                                                 of transaction k carries the marker `LAG:k;`
 *
 * Prints one JSON line at the end: commits, seconds, and for `lag` the CLOCK_MONOTONIC time
 * (ns, as text) at which each commit returned.
 */
import Database from 'better-sqlite3';

const [dbPath, mode, ...rest] = process.argv.slice(2);
if (!dbPath || !mode) throw new Error('usage: writer-child.ts DB steady|max|lag …');

const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const maxId = (db.prepare('SELECT max(id) AS m FROM items').get() as { m: number }).m;
const insert = db.prepare('INSERT INTO bench_log(at, body) VALUES (?, ?)');
const update = db.prepare('UPDATE items SET created_at = created_at + 1 WHERE id = ?');
const filler = 'x'.repeat(200);

function transaction(body: string): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    insert.run(Date.now(), body);
    update.run(1 + Math.floor(Math.random() * maxId));
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw err;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const start = performance.now();
let commits = 0;
const commitNs: string[] = [];

if (mode === 'steady') {
  const rate = Number(rest[0]);
  const seconds = Number(rest[1]);
  const period = 1000 / rate;
  // A fixed schedule (commit i at start + i·period), so a slow commit does not lower the rate.
  while (performance.now() - start < seconds * 1000) {
    transaction(`${commits} ${filler}`.slice(0, 200));
    commits++;
    await sleep(start + commits * period - performance.now());
  }
} else if (mode === 'max') {
  const seconds = Number(rest[0]);
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    transaction(`${commits} ${filler}`.slice(0, 200));
    commits++;
  }
} else if (mode === 'lag') {
  const n = Number(rest[0]);
  const minGap = Number(rest[1]);
  const maxGap = Number(rest[2]);
  for (let k = 1; k <= n; k++) {
    await sleep(minGap + Math.random() * (maxGap - minGap));
    transaction(`LAG:${String(k).padStart(6, '0')}; ${filler}`.slice(0, 200));
    commitNs.push(process.hrtime.bigint().toString());
    commits++;
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - start) / 1000;
db.close();
console.log(JSON.stringify({ mode, commits, seconds, commitNs }));
