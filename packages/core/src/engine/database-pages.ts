import type { FileHandle } from 'node:fs/promises';
import { lockPgno } from '../ltx/constants.ts';

/**
 * Visits every page of a database state made of the main file overlaid with WAL frames
 * (`walPages`: pgno → offset of the page data in `wal`), in page order, skipping the lock
 * page. Main-file pages are read in large sequential chunks.
 */
export async function forEachDatabasePage(
  db: FileHandle,
  wal: FileHandle | undefined,
  walPages: ReadonlyMap<number, number> | undefined,
  pageSize: number,
  commit: number,
  visit: (pgno: number, data: Buffer) => Promise<void> | void,
): Promise<void> {
  const lock = lockPgno(pageSize);
  const pagesPerChunk = Math.max(1, Math.floor((1 << 20) / pageSize));
  const chunk = Buffer.alloc(pagesPerChunk * pageSize);
  for (let first = 1; first <= commit; first += pagesPerChunk) {
    const count = Math.min(pagesPerChunk, commit - first + 1);
    const { bytesRead } = await db.read(chunk, 0, count * pageSize, (first - 1) * pageSize);
    // Pages past the end of the main file exist only in the WAL (or are zero-filled).
    chunk.fill(0, bytesRead, count * pageSize);
    for (let i = 0; i < count; i++) {
      const pgno = first + i;
      if (pgno === lock) continue;
      const walOffset = walPages?.get(pgno);
      if (walOffset !== undefined && wal) {
        const page = Buffer.allocUnsafe(pageSize);
        await wal.read(page, 0, pageSize, walOffset);
        await visit(pgno, page);
      } else {
        await visit(pgno, chunk.subarray(i * pageSize, (i + 1) * pageSize));
      }
    }
  }
}
