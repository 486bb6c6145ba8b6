import { rm } from 'node:fs/promises';
import { IntegrityCheckError } from './restore-errors.ts';

/** How much checking a restored database gets: none, `PRAGMA quick_check`, or `PRAGMA integrity_check`. */
export type IntegrityCheckMode = 'none' | 'quick' | 'full';

/**
 * Runs SQLite's own check on a database file the caller owns (a restore's temp file).
 * The file is opened read-only, so its bytes stay as restored; but it is in WAL mode, and
 * a read-only connection creates `-wal`/`-shm` files it cannot remove on close, so they
 * are removed here. Throws `IntegrityCheckError` (naming `name`) unless the pragma returns
 * exactly one `ok` row.
 */
export async function checkIntegrity(path: string, mode: 'quick' | 'full', name: string = path): Promise<void> {
  let rows: string[];
  try {
    // Loaded here: a restore without a check never needs SQLite in this process.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      rows = db
        .prepare(mode === 'quick' ? 'PRAGMA quick_check' : 'PRAGMA integrity_check')
        .pluck()
        .all()
        .map((row) => String(row));
    } finally {
      db.close();
    }
  } catch (error) {
    // SQLite refusing the file at all (not a database, malformed header) is a failed check too.
    rows = [error instanceof Error ? error.message : String(error)];
  } finally {
    await Promise.all([rm(`${path}-wal`, { force: true }), rm(`${path}-shm`, { force: true })]);
  }
  if (rows.length !== 1 || rows[0] !== 'ok') throw new IntegrityCheckError(name, mode, rows);
}
