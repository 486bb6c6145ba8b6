import { open } from 'node:fs/promises';

/** What a file found under a directory entry is, as far as replication goes. */
export type FileKind =
  | { readonly kind: 'database' }
  /** Not replicated: not a SQLite database, or one not in WAL mode. */
  | { readonly kind: 'skipped'; readonly reason: string }
  /** Maybe a database still being created (empty, or shorter than a header): looked at again when it changes. */
  | { readonly kind: 'pending'; readonly reason: string };

const HEADER = 100;
const MAGIC = 'SQLite format 3\0';

/**
 * Reads the first 100 bytes of `path`: a SQLite header whose read and write versions are 2 is
 * a database in WAL mode (SQLite writes them when `journal_mode=WAL` is set, before any
 * table). Opens and closes the file, so it must never be used on a database this process has
 * open in SQLite (closing a descriptor drops the process's locks on the file).
 */
export async function classifyFile(path: string): Promise<FileKind> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER);
    const { bytesRead } = await handle.read(buffer, 0, HEADER, 0);
    if (bytesRead === 0) return { kind: 'pending', reason: 'the file is empty' };
    const head = buffer.subarray(0, bytesRead);
    if (head.toString('latin1', 0, Math.min(bytesRead, MAGIC.length)) !== MAGIC.slice(0, Math.min(bytesRead, MAGIC.length))) {
      return { kind: 'skipped', reason: 'not a SQLite database' };
    }
    if (bytesRead < HEADER) return { kind: 'pending', reason: 'the SQLite header is not complete yet' };
    const read = head[18];
    const write = head[19];
    if (read !== 2 || write !== 2) {
      return { kind: 'skipped', reason: `not in WAL mode (journal_mode=${read === 1 && write === 1 ? 'DELETE or another rollback mode' : `file format ${read}/${write}`}); set PRAGMA journal_mode=WAL to replicate it` };
    }
    return { kind: 'database' };
  } finally {
    await handle.close();
  }
}
