// A reader process for follow-mode tests: holds one read-only better-sqlite3 connection to a
// follow output whose every transaction adds one row with the same `v` to tables `a` and
// `b`, and reads both in one transaction every few milliseconds. A half-applied update would
// show different counts or sums. Prints one JSON line when stdin closes or says "stop":
// { reads, violations, distinct, last, backwards, errors }. On "hold MS" it keeps one read
// transaction open for MS ms, printing "holding {state}" when it began and
// "released {before, after}" (the state read at its start and at its end) when it ended.
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';

const path = process.argv[2]!;
const pauseMs = Number(process.argv[3] ?? 2);
while (!existsSync(path)) await sleep(10);
const db = new Database(path, { readonly: true, fileMustExist: true });
const read = db.transaction(() => {
  const a = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM a').get() as { n: number; s: number };
  const b = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM b').get() as { n: number; s: number };
  return { a: a.n, b: b.n, sumA: a.s, sumB: b.s };
});

let stop = false;
let holdMs = 0;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'stop') stop = true;
  const hold = /^hold (\d+)$/.exec(line.trim());
  if (hold) holdMs = Number(hold[1]);
}).on('close', () => (stop = true));

let reads = 0;
let backwards = 0;
const violations: unknown[] = [];
const errors: string[] = [];
const distinct = new Set<number>();
let last: { a: number; b: number; sumA: number; sumB: number } | undefined;
const readOne = () => {
  const a = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM a').get() as { n: number; s: number };
  const b = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM b').get() as { n: number; s: number };
  return { a: a.n, b: b.n, sumA: a.s, sumB: b.s };
};
while (!stop) {
  if (holdMs > 0) {
    const ms = holdMs;
    holdMs = 0;
    db.exec('BEGIN');
    const before = readOne();
    process.stdout.write(`holding ${JSON.stringify(before)}\n`);
    await sleep(ms);
    const after = readOne();
    db.exec('COMMIT');
    process.stdout.write(`released ${JSON.stringify({ before, after })}\n`);
  }
  try {
    const s = read();
    reads++;
    if (s.a !== s.b || s.sumA !== s.sumB) violations.push(s);
    if (last && s.a < last.a) backwards++;
    distinct.add(s.a);
    last = s;
  } catch (error) {
    // A state can legitimately go backwards only on a restore after a new chain; errors are reported.
    if (errors.length < 20) errors.push((error as Error).message);
  }
  await sleep(pauseMs);
}
db.close();
process.stdout.write(`${JSON.stringify({ reads, violations, distinct: distinct.size, last, backwards, errors })}\n`);
