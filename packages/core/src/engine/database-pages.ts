import type { FileHandle } from 'node:fs/promises';
import { lockPgno } from '../ltx/constants.ts';

/** Where a page's newer copy lives, if the WAL holds one: its bytes, else undefined. */
export type PageOverlay = (pgno: number) => Buffer | undefined;

/**
 * Visits every page of a database state made of the main file overlaid with WAL frames, in
 * page order, skipping the lock page. Main-file pages are read in large sequential chunks;
 * `visit` gets views that are valid until it returns (or its promise settles).
 */
export async function forEachDatabasePage(
  db: FileHandle,
  overlay: PageOverlay | undefined,
  pageSize: number,
  commit: number,
  visit: (pgno: number, data: Buffer) => Promise<void> | void,
): Promise<void> {
  const lock = lockPgno(pageSize);
  // Sized to the database when it is small: a 1 MiB buffer per call is pure garbage for a
  // database of a few pages (and thousands of them start at once).
  const pagesPerChunk = Math.max(1, Math.min(commit, Math.floor((1 << 20) / pageSize)));
  const chunk = Buffer.allocUnsafe(pagesPerChunk * pageSize);
  for (let first = 1; first <= commit; first += pagesPerChunk) {
    const count = Math.min(pagesPerChunk, commit - first + 1);
    const { bytesRead } = await db.read(chunk, 0, count * pageSize, (first - 1) * pageSize);
    // Pages past the end of the main file exist only in the WAL (or are zero-filled).
    chunk.fill(0, bytesRead, count * pageSize);
    for (let i = 0; i < count; i++) {
      const pgno = first + i;
      if (pgno === lock) continue;
      const data = overlay?.(pgno) ?? chunk.subarray(i * pageSize, (i + 1) * pageSize);
      const pending = visit(pgno, data);
      if (pending) await pending;
    }
  }
}

/**
 * Visits the same state as `forEachDatabasePage` as runs of consecutive pages: each chunk of
 * the main file with the WAL's newer pages copied over it, so an encoder can take a whole
 * run at once (`LtxEncoder.writePages`). The lock page is left in place (its bytes are
 * whatever the file holds): consumers skip it. `visit` may not keep `data` past its promise.
 */
export async function forEachDatabaseRun(
  db: FileHandle,
  overlay: PageOverlay | undefined,
  pageSize: number,
  commit: number,
  visit: (firstPgno: number, data: Buffer) => Promise<void>,
): Promise<void> {
  const pagesPerChunk = Math.max(1, Math.min(commit, Math.floor((1 << 20) / pageSize)));
  const chunk = Buffer.allocUnsafe(pagesPerChunk * pageSize);
  for (let first = 1; first <= commit; first += pagesPerChunk) {
    const count = Math.min(pagesPerChunk, commit - first + 1);
    const length = count * pageSize;
    let got = 0;
    for (;;) {
      const { bytesRead } = await db.read(chunk, got, length - got, (first - 1) * pageSize + got);
      got += bytesRead;
      if (bytesRead === 0 || got === length) break;
    }
    // Pages past the end of the main file exist only in the WAL (or are zero-filled).
    chunk.fill(0, got, length);
    if (overlay) {
      for (let i = 0; i < count; i++) {
        const page = overlay(first + i);
        if (page) page.copy(chunk, i * pageSize);
      }
    }
    await visit(first, chunk.subarray(0, length));
  }
}
