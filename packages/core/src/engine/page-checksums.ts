import { CHECKSUM_FLAG } from '../ltx/constants.ts';

/** Sizes up to this many pages (8 MiB of checksums) get their room at once. */
const PREALLOCATE_PAGES = 1 << 20;

/**
 * Every page's checksum and their XOR: the LTX database checksum, kept up to date page by
 * page so a new file's post-apply checksum costs only the pages it changes. 8 bytes a page.
 */
export class PageChecksums {
  private sums = new BigUint64Array(0);
  private xor = 0n;
  /** Database size in pages. */
  commit = 0;

  /** The database checksum (bit 63 set). */
  get checksum(): bigint {
    return CHECKSUM_FLAG | this.xor;
  }

  /** Checksum recorded for a page (0 when never set or beyond commit). */
  get(pgno: number): bigint {
    return pgno <= this.commit ? (this.sums[pgno - 1] ?? 0n) : 0n;
  }

  /** Records a page's new checksum. The page must be within commit. */
  set(pgno: number, checksum: bigint): void {
    if (pgno > this.sums.length) this.grow(pgno);
    const old = this.sums[pgno - 1]!;
    this.xor ^= old ^ checksum;
    this.sums[pgno - 1] = checksum;
  }

  /**
   * Grows or shrinks the database; pages dropped by shrinking leave the checksum. Room for
   * the pages is made as they are set (up front only for a modest size), so a size read from
   * a damaged or hostile file costs nothing until its pages actually arrive.
   */
  resize(commit: number): void {
    if (commit < this.commit) {
      const end = Math.min(this.commit, this.sums.length);
      for (let i = commit; i < end; i++) {
        this.xor ^= this.sums[i]!;
        this.sums[i] = 0n;
      }
    } else if (commit > this.sums.length && commit <= PREALLOCATE_PAGES) {
      this.grow(commit);
    }
    this.commit = commit;
  }

  private grow(pgno: number): void {
    const next = new BigUint64Array(Math.max(pgno, Math.min(Math.max(this.commit, pgno), Math.ceil(this.sums.length * 1.5) + 1024)));
    next.set(this.sums);
    this.sums = next;
  }

  /** Forgets everything (an empty database). */
  clear(): void {
    this.sums = new BigUint64Array(0);
    this.xor = 0n;
    this.commit = 0;
  }
}
