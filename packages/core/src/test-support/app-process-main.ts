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

type Command = { op: 'insert'; rows: number; size: number } | { op: 'exec'; sql: string } | { op: 'pragma'; sql: string } | { op: 'hash' } | { op: 'count' };

function handle(cmd: Command): unknown {
  switch (cmd.op) {
    case 'insert':
      db.transaction(() => {
        for (let i = 0; i < cmd.rows; i++) insert.run(`${'x'.repeat(cmd.size)}${Math.random()}`);
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
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  try {
    process.stdout.write(`${JSON.stringify(handle(JSON.parse(line) as Command))}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message })}\n`);
  }
}
db.close();
