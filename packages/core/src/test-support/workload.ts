import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/** Mirrors `WorkloadRecord` of app-process-main.ts. */
export interface WorkloadRecord {
  readonly txn: number;
  readonly maxId: number;
  readonly hash: string;
  readonly beganAt: number;
}

/** Recomputes the application's row chain from a (restored) database: max id and hash. */
export function rowChainOf(path: string): { maxId: number; hash: string } {
  const db = new Database(path, { readonly: true });
  try {
    let chain = createHash('sha256').update('rows').digest('hex');
    let maxId = 0;
    for (const row of db.prepare('SELECT id, body FROM t ORDER BY id').iterate() as Iterable<{ id: number; body: string }>) {
      chain = createHash('sha256').update(chain).update(`${row.id}:`).update(row.body).digest('hex');
      maxId = row.id;
    }
    return { maxId, hash: chain };
  } finally {
    db.close();
  }
}

/** The workload record a restored database equals exactly, or undefined if it equals none. */
export function matchingRecord(records: readonly WorkloadRecord[], path: string): WorkloadRecord | undefined {
  const state = rowChainOf(path);
  if (state.maxId === 0) return undefined;
  return records.find((r) => r.maxId === state.maxId && r.hash === state.hash);
}
