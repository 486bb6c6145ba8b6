import { CHECKSUM_FLAG } from '../ltx/constants.ts';

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
    return pgno <= this.commit ? this.sums[pgno - 1]! : 0n;
  }

  /** Records a page's new checksum. The page must be within commit. */
  set(pgno: number, checksum: bigint): void {
    const old = this.sums[pgno - 1]!;
    this.xor ^= old ^ checksum;
    this.sums[pgno - 1] = checksum;
  }

  /** Grows or shrinks the database; pages dropped by shrinking leave the checksum. */
  resize(commit: number): void {
    if (commit < this.commit) {
      for (let i = commit; i < this.commit; i++) {
        this.xor ^= this.sums[i]!;
        this.sums[i] = 0n;
      }
    } else if (commit > this.sums.length) {
      const next = new BigUint64Array(Math.max(commit, Math.ceil(this.sums.length * 1.25)));
      next.set(this.sums.subarray(0, this.commit));
      this.sums = next;
    }
    this.commit = commit;
  }

  /** Forgets everything (an empty database). */
  clear(): void {
    this.sums = new BigUint64Array(0);
    this.xor = 0n;
    this.commit = 0;
  }
}
