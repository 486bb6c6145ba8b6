/** Facts of the LTX v3 on-disk format shared by the encoder, decoder and compactor. */

/** The four bytes every LTX file starts with. */
export const LTX_MAGIC = 'LTX1';
/** The only format version this codec reads and writes. */
export const LTX_VERSION = 3;

export const HEADER_SIZE = 100;
/** pgno (4) + flags (2). */
export const PAGE_HEADER_SIZE = 6;
/** pgno (4) + flags (2) + compressed size (4). */
export const FRAME_HEADER_SIZE = 10;
export const TRAILER_SIZE = 16;

/** Page-header flag: a 4-byte size follows and the payload is one LZ4 block. */
export const PAGE_FLAG_SIZE = 0x0001;
/** Header flag: the file carries no database checksums (pre/post-apply are zero). */
export const HEADER_FLAG_NO_CHECKSUM = 0x0000_0002;
export const HEADER_FLAG_MASK = HEADER_FLAG_NO_CHECKSUM;

/** Bit 63, set on every stored checksum so that a real checksum is never zero. */
export const CHECKSUM_FLAG = 1n << 63n;

export const MIN_PAGE_SIZE = 512;
export const MAX_PAGE_SIZE = 65536;

/** SQLite's PENDING_BYTE: the page that holds it (the lock page) is never stored. */
export const PENDING_BYTE = 0x4000_0000;

/** Level that holds full snapshots; 0..8 are compaction tiers. */
export const SNAPSHOT_LEVEL = 9;
export const MAX_LEVEL = 9;

/** True when `size` is a power of two between 512 and 65536. */
export function isValidPageSize(size: number): boolean {
  return Number.isInteger(size) && size >= MIN_PAGE_SIZE && size <= MAX_PAGE_SIZE && (size & (size - 1)) === 0;
}

/** Page number of the SQLite lock page for a page size. */
export function lockPgno(pageSize: number): number {
  return Math.floor(PENDING_BYTE / pageSize) + 1;
}
