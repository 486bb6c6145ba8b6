import Database from 'better-sqlite3';

/** Makes a small database in rollback-journal mode (`journal_mode=delete`), as apps that never asked for WAL have (tests only). */
export function makeRollbackJournalDatabase(path: string): void {
  const conn = new Database(path);
  try {
    conn.pragma('journal_mode = delete');
    conn.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
    if (conn.pragma('journal_mode', { simple: true }) !== 'delete') throw new Error(`${path} is not in rollback-journal mode`);
  } finally {
    conn.close();
  }
}
