// A stand-in for an application process: holds one better-sqlite3 connection to a
// database and obeys one JSON command per stdin line, answering one JSON line each.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';

const path = process.argv[2]!;
const db = new Database(path, { timeout: 10_000 });
db.pragma('journal_mode = wal');
db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)');
const insert = db.prepare('INSERT INTO t (body) VALUES (?)');

type Command =
  | { op: 'insert'; rows: number; size: number }
  | { op: 'exec'; sql: string }
  | { op: 'pragma'; sql: string }
  | { op: 'hash' }
  | { op: 'count' }
  | { op: 'workload'; txns: number; bigTxnAt?: number; pauseEvery?: number; pauseMs?: number }
  | { op: 'steady'; txnPerSecond: number; durationMs: number };

/** Content hash of the table after each committed transaction of a workload. */
export interface WorkloadRecord {
  readonly txn: number;
  readonly maxId: number;
  readonly hash: string;
  /** When the transaction began: it cannot be in any replica file stamped earlier. */
  readonly beganAt: number;
}

let chain = rowChainSeed();
let lastId = 0;

function rowChainSeed(): string {
  return createHash('sha256').update('rows').digest('hex');
}

/** Extends the row chain the way `rowChainOf` in workload.ts recomputes it from a database. */
function extendChain(id: number, body: string): void {
  chain = createHash('sha256').update(chain).update(`${id}:`).update(body).digest('hex');
}

/**
 * Thousands of transactions of mixed size: mostly a few small rows, some rows on overflow
 * pages, and one transaction larger than the WAL auto-checkpoint threshold (1000 pages).
 */
async function workload(cmd: Extract<Command, { op: 'workload' }>): Promise<WorkloadRecord[]> {
  const records: WorkloadRecord[] = [];
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let txn = 1; txn <= cmd.txns; txn++) {
    const rows: string[] = [];
    if (txn === cmd.bigTxnAt) {
      for (let i = 0; i < 1500; i++) rows.push(`big-${txn}-${i}-${'B'.repeat(4000)}`);
    } else {
      const n = 1 + Math.floor(random() * 5);
      for (let i = 0; i < n; i++) {
        const size = random() < 0.05 ? 9000 + Math.floor(random() * 20000) : 20 + Math.floor(random() * 400);
        rows.push(`${txn}-${i}-${'r'.repeat(size)}`);
      }
    }
    const beganAt = Date.now();
    db.transaction(() => {
      for (const body of rows) {
        const id = Number(insert.run(body).lastInsertRowid);
        extendChain(id, body);
        lastId = id;
      }
    })();
    records.push({ txn, maxId: lastId, hash: chain, beganAt });
    if (cmd.pauseEvery && txn % cmd.pauseEvery === 0) await new Promise((r) => setTimeout(r, cmd.pauseMs ?? 5));
  }
  return records;
}

/**
 * A steady writer: small transactions at a fixed rate for a while, each inserting a short
 * row and rewriting a random earlier one, as a busy application does. Returns how many ran.
 */
async function steady(cmd: Extract<Command, { op: 'steady' }>): Promise<number> {
  const update = db.prepare('UPDATE t SET body = ? WHERE id = ?');
  const interval = 1000 / cmd.txnPerSecond;
  const start = Date.now();
  let txns = 0;
  while (Date.now() - start < cmd.durationMs) {
    db.transaction(() => {
      const body = `steady-${txns}-${'s'.repeat(150)}`;
      const id = Number(insert.run(body).lastInsertRowid);
      extendChain(id, body);
      lastId = id;
      update.run(`updated-${txns}-${'u'.repeat(100)}`, 1 + Math.floor(Math.random() * id));
    })();
    txns += 1;
    const next = start + txns * interval;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  return txns;
}

async function handle(cmd: Command): Promise<unknown> {
  switch (cmd.op) {
    case 'insert':
      db.transaction(() => {
        for (let i = 0; i < cmd.rows; i++) {
          const body = `${'x'.repeat(cmd.size)}${Math.random()}`;
          const id = Number(insert.run(body).lastInsertRowid);
          extendChain(id, body);
          lastId = id;
        }
      })();
      return { ok: true };
    case 'exec':
      db.exec(cmd.sql);
      return { ok: true };
    case 'pragma':
      return { ok: true, result: db.pragma(cmd.sql) };
    case 'hash':
      return { ok: true, sha256: createHash('sha256').update(db.serialize()).digest('hex') };
    case 'count':
      return { ok: true, count: (db.prepare('SELECT COUNT(*) AS c FROM t').get() as { c: number }).c };
    case 'workload':
      return { ok: true, records: await workload(cmd) };
    case 'steady':
      return { ok: true, txns: await steady(cmd) };
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  try {
    process.stdout.write(`${JSON.stringify(await handle(JSON.parse(line) as Command))}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
  }
}
db.close();
