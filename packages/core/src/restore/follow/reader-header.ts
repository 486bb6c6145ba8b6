import type { FileHandle } from 'node:fs/promises';

/** The part of page 1 a follow output rewrites: the 100-byte database header. */
export const HEADER_BYTES = 100;

/**
 * Rewrites the header of a follow output so SQLite readers see it as it is: a
 * rollback-journal database (bytes 18–19 are 1; the primary's pages say WAL, and a reader
 * would then look for the changes in a WAL that does not exist), whose file change counter
 * (24) moved, so readers drop pages they cached before the update, with a valid in-header
 * size (28, trusted while 92 equals the counter). Returns the counter written.
 */
export async function writeReaderHeader(fh: FileHandle, previousCounter: number | undefined): Promise<number> {
  const header = Buffer.alloc(HEADER_BYTES);
  await fh.read(header, 0, HEADER_BYTES, 0);
  const pageSize = headerPageSize(header);
  const { size } = await fh.stat();
  const counter = ((previousCounter ?? header.readUInt32BE(24)) + 1) >>> 0;
  header[18] = 1;
  header[19] = 1;
  header.writeUInt32BE(counter, 24);
  header.writeUInt32BE(Math.floor(size / pageSize), 28);
  header.writeUInt32BE(counter, 92);
  await fh.write(header, 0, HEADER_BYTES, 0);
  return counter;
}

/** Page size of a SQLite header (bytes 16–17; 1 means 65536). */
export function headerPageSize(header: Uint8Array): number {
  const raw = (header[16]! << 8) | header[17]!;
  return raw === 1 ? 65536 : raw;
}
