// Runs in its own process: loads Litestream v0.5.17's VFS extension, opens the replica named
// by LITESTREAM_REPLICA_URL through it, runs the SQL statements given as a JSON array on
// argv[3] (a statement starting with SELECT or PRAGMA is queried, any other is executed) and
// prints one JSON line: each statement's rows or change count, in order. One process per
// connection, so the extension's environment is per process and a crash cannot take the test
// runner down.
//
// It uses node:sqlite, not better-sqlite3: the VFS is chosen by a `file:…?vfs=litestream` URI,
// and better-sqlite3 is built with SQLITE_USE_URI=0 (it would create a plain file of that
// name). Only one connection is opened after the extension is loaded: the extension's
// auto-extension hook makes every later connection that is not on its VFS fail to open.
import { DatabaseSync } from 'node:sqlite';

const [extension, statementsJson] = process.argv.slice(2);
if (!extension || !statementsJson) throw new Error('usage: vfs-child.ts EXTENSION STATEMENTS_JSON');
const statements = JSON.parse(statementsJson) as string[];

const loader = new DatabaseSync(':memory:', { allowExtension: true });
loader.loadExtension(extension);
const db = new DatabaseSync(new URL('file:replica.db?vfs=litestream'), { timeout: 10_000 });
const results: unknown[] = [];
for (const sql of statements) {
  const statement = db.prepare(sql);
  if (/^\s*(SELECT|PRAGMA)/i.test(sql)) {
    statement.setReturnArrays(true);
    results.push(statement.all());
  } else {
    results.push(Number(statement.run().changes));
  }
}
db.close();
loader.close();
process.stdout.write(`${JSON.stringify(results)}\n`);
