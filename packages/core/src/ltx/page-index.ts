/**
 * The page index that follows the page frames: for each page, in pgno order, the
 * uvarints (pgno, frame offset, frame size); then a zero uvarint, then the byte size of
 * the entries plus that terminator as a big-endian u64.
 */

/** One entry of the page index. */
export interface PageIndexEntry {
  readonly pgno: number;
  /** File offset of the page frame (its 6-byte header). */
  readonly offset: number;
  /** Frame size: header, size prefix and compressed payload. */
  readonly size: number;
}

/** Appends uvarint-encoded entries into a growing buffer; memory is ~7 bytes a page. */
export class PageIndexBuilder {
  private buf = Buffer.allocUnsafe(4096);
  private used = 0;
  count = 0;

  add(pgno: number, offset: number, size: number): void {
    if (this.buf.byteLength - this.used < 30) {
      const next = Buffer.allocUnsafe(this.buf.byteLength * 2);
      this.buf.copy(next, 0, 0, this.used);
      this.buf = next;
    }
    this.used = writeUvarint(this.buf, this.used, pgno);
    this.used = writeUvarint(this.buf, this.used, offset);
    this.used = writeUvarint(this.buf, this.used, size);
    this.count += 1;
  }

  /** The encoded entries, the zero terminator and the 8-byte size. */
  finish(): Buffer {
    const out = Buffer.allocUnsafe(this.used + 1 + 8);
    this.buf.copy(out, 0, 0, this.used);
    out[this.used] = 0;
    out.writeBigUInt64BE(BigInt(this.used + 1), this.used + 1);
    return out;
  }
}

/** Writes `value` as an unsigned LEB128 varint at `pos`; returns the new position. */
export function writeUvarint(buf: Buffer, pos: number, value: number): number {
  let v = value;
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/** Size in bytes of `value` as a uvarint. */
export function uvarintSize(value: number): number {
  let n = 1;
  let v = value;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n += 1;
  }
  return n;
}

/**
 * Order-sensitive fingerprint of a sequence of index entries. The decoder folds each
 * frame it reads and each index entry it parses into one fingerprint apiece and compares
 * them, so it checks the index against the frames without keeping either in memory.
 */
export class IndexFingerprint {
  private a = 0x811c9dc5;
  private b = 0x01000193;
  count = 0;

  add(pgno: number, offset: number, size: number): void {
    this.a = mix(this.a, pgno);
    this.a = mix(this.a, offset % 0x1_0000_0000);
    this.a = mix(this.a, Math.floor(offset / 0x1_0000_0000));
    this.a = mix(this.a, size);
    this.b = mix(this.b ^ this.a, this.count);
    this.count += 1;
  }

  equals(other: IndexFingerprint): boolean {
    return this.a === other.a && this.b === other.b && this.count === other.count;
  }
}

function mix(h: number, v: number): number {
  let x = Math.imul(h ^ (v >>> 0), 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca77);
  return (x ^ (x >>> 13)) >>> 0;
}
