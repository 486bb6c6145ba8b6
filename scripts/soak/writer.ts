// The soak's application: commits to a SQLite database through its own better-sqlite3
// connection, at a steady rate, and reports every commit. Run by writer-client.ts as
//   node writer.ts DB TXN_PER_SECOND
// stdout, one line each:  C <maxId> <epochMs>   after each COMMIT returned
//                         K <mode> <busy> <log> <checkpointed> <ms>   after `checkpoint MODE`
//                         H <sha256 of the database image>            after `hash`
//                         S <maxId>                                    after `stop` (no more commits)
// stdin: `checkpoint PASSIVE|FULL|RESTART|TRUNCATE`, `hash`, `stop`.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { rowBody } from './rows.ts';

// better-sqlite3 is a dependency of @litestream-ts/core; resolve it from there.
const require = createRequire(join(import.meta.dirname, '../../packages/core/package.json'));
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

const [path, rate] = [process.argv[2]!, Number(process.argv[3] ?? 20)];
const db = new Database(path, { timeout: 10_000 });
db.pragma('journal_mode = wal');
db.exec('CREATE TABLE IF NOT EXISTS soak (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO soak (id, body) VALUES (?, ?)');
let maxId = (db.prepare('SELECT COALESCE(MAX(id), 0) AS m FROM soak').get() as { m: number }).m;
let stopped = false;
let txn = 0;

function commitOne(): void {
  txn += 1;
  // Mostly a few small rows; every 400th transaction ~1.2 MB, past the WAL auto-checkpoint size.
  const rows = txn % 400 === 0 ? 300 : 1 + (txn % 4);
  const big = rows === 300;
  let id = maxId;
  db.transaction(() => {
    for (let i = 0; i < rows; i++) {
      id += 1;
      insert.run(id, rowBody(id, big ? 4000 : 40 + ((id * 37) % 400)));
    }
  })();
  maxId = id;
  process.stdout.write(`C ${maxId} ${Date.now()}\n`);
}

const started = Date.now();
function tick(): void {
  if (stopped) return;
  try {
    commitOne();
  } catch (err) {
    // A commit that failed (SQLITE_BUSY past the timeout, a full disk) is not reported; go on.
    process.stderr.write(`writer: commit failed: ${(err as Error).message}\n`);
  }
  const next = started + (txn * 1000) / rate;
  setTimeout(tick, Math.max(0, next - Date.now()));
}
tick();

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === 'checkpoint') {
    const t0 = Date.now();
    try {
      const [r] = db.pragma(`wal_checkpoint(${arg})`) as Array<{ busy: number; log: number; checkpointed: number }>;
      process.stdout.write(`K ${arg} ${r!.busy} ${r!.log} ${r!.checkpointed} ${Date.now() - t0}\n`);
    } catch (err) {
      process.stderr.write(`writer: checkpoint ${arg} failed: ${(err as Error).message}\n`);
      process.stdout.write(`K ${arg} error 0 0 ${Date.now() - t0}\n`);
    }
  } else if (command === 'hash') {
    process.stdout.write(`H ${createHash('sha256').update(db.serialize()).digest('hex')}\n`);
  } else if (command === 'stop') {
    stopped = true;
    process.stdout.write(`S ${maxId}\n`);
  }
}
db.close();
