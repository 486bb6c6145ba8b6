import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { core, type ReplicaClient } from './libs.ts';
import { LITESTREAM_BIN } from './replicate-process.ts';
import { isRowBody } from './rows.ts';
import type { WriterClient } from './writer-client.ts';

const require = createRequire(join(import.meta.dirname, '../../packages/core/package.json'));
const Database = require('better-sqlite3') as typeof import('better-sqlite3');

/** The replica's position as a reader sees it: its highest TXID, and when that file was staged. */
export interface ReplicaPosition {
  readonly txid: number;
  /** The LTX header timestamp of that file (ms): taken right after its WAL frames were read. */
  readonly stagedAt: number;
}

/** Reads the replica's position straight from the store (not through the fault proxy). */
export async function readPosition(client: ReplicaClient): Promise<ReplicaPosition | undefined> {
  const pos = await core.readRemotePosition(client);
  if (!pos) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of await client.openLtxFile(pos.file, { offset: 0, size: core.HEADER_SIZE })) chunks.push(Buffer.from(chunk));
  return { txid: pos.txid, stagedAt: core.decodeHeader(Buffer.concat(chunks)).timestamp };
}

/** One restore-and-compare. */
export interface CheckResult {
  readonly at: number;
  readonly ok: boolean;
  /** Why it failed (empty when ok). */
  readonly problems: string[];
  readonly reportedTxid: number;
  readonly restoredTxid: number;
  /** Rows restored (ids 1..rows). */
  readonly rows: number;
  /** Rows committed when the check began. */
  readonly committed: number;
  /** Age of the oldest committed row the restore lacks, when the check began (0: it had them all). */
  readonly lagMs: number;
  readonly ms: number;
}

/** Runs the real `litestream restore`; resolves with its exit code and output. */
export function restoreWithCli(url: string, out: string, env: Record<string, string>, extra: readonly string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LITESTREAM_BIN, 'restore', '-o', out, '-integrity-check', 'full', ...extra, url], {
      env: { ...process.env, LITESTREAM_CONFIG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Restores the replica's latest state and compares it with what the writer committed:
 *
 * 1. the restore succeeds and passes `PRAGMA integrity_check` (the `-integrity-check full` flag);
 * 2. it holds at least the replica's reported position: restored TXID ≥ the TXID read from the
 *    store just before (the replica never goes back), and ≥ the TXID of the previous check;
 * 3. its rows are a committed prefix of the writer's history: ids exactly 1..k, every body the
 *    one the writer stored, and k the last row of some commit (no torn transaction), k ≤ what
 *    was committed when the restore ended, k ≥ the previous check's k (nothing restorable
 *    before is lost).
 *
 * Rows only ever get inserted, so "holds everything the replica reported" is exactly 2 + 3: the
 * state at any TXID is the prefix of rows committed up to that transaction.
 */
export async function restoreAndCompare(options: {
  url: string;
  env: Record<string, string>;
  out: string;
  writer: WriterClient;
  position: ReplicaPosition | undefined;
  previous: CheckResult | undefined;
}): Promise<CheckResult> {
  const at = Date.now();
  const committed = options.writer.lastCommitted();
  const problems: string[] = [];
  await removeDatabase(options.out);
  const r = await restoreWithCli(options.url, options.out, options.env);
  const committedAfter = options.writer.lastCommitted();
  let restoredTxid = -1;
  let rows = -1;
  if (r.code !== 0) problems.push(`restore exited ${r.code}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  else {
    restoredTxid = parseInt(/ to TXID ([0-9a-f]{16}) /.exec(r.stdout)?.[1] ?? '-1', 16);
    const scan = scanRows(options.out);
    rows = scan.rows;
    if (scan.problem) problems.push(scan.problem);
    const reported = options.position?.txid ?? 0;
    if (restoredTxid < reported) problems.push(`restored TXID ${restoredTxid} is below the replica's reported TXID ${reported}`);
    if (options.previous && options.previous.restoredTxid > restoredTxid) problems.push(`restored TXID ${restoredTxid} is below the previous check's ${options.previous.restoredTxid}`);
    if (options.previous && options.previous.rows > rows) problems.push(`${rows} rows restored, fewer than the previous check's ${options.previous.rows}: committed rows were lost`);
    if (!options.writer.isBoundary(rows)) problems.push(`row ${rows} is not the last row of any commit: a torn transaction`);
    if (rows > committedAfter) problems.push(`${rows} rows restored but only ${committedAfter} committed`);
  }
  const firstMissing = options.writer.committedAt(rows + 1);
  const lagMs = rows >= 0 && rows < committed && firstMissing !== undefined ? Math.max(0, at - firstMissing) : 0;
  await removeDatabase(options.out);
  return { at, ok: problems.length === 0, problems, reportedTxid: options.position?.txid ?? 0, restoredTxid, rows, committed, lagMs, ms: Date.now() - at };
}

/** Walks the restored table: ids must run 1..k without a gap, each body the writer's. */
export function scanRows(path: string): { rows: number; problem?: string } {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    let expected = 1;
    for (const row of db.prepare('SELECT id, body FROM soak ORDER BY id').iterate() as Iterable<{ id: number; body: string }>) {
      if (row.id !== expected) return { rows: expected - 1, problem: `row ${expected} is missing (next id is ${row.id})` };
      if (!isRowBody(row.id, row.body)) return { rows: expected - 1, problem: `row ${row.id} holds a body the writer never wrote` };
      expected += 1;
    }
    return { rows: expected - 1 };
  } catch (err) {
    return { rows: -1, problem: `reading the restored database failed: ${(err as Error).message}` };
  } finally {
    db.close();
  }
}

async function removeDatabase(path: string): Promise<void> {
  await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(path + suffix, { force: true })));
}
