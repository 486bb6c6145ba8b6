/**
 * LZ4 *block* helpers in plain JS for the rare LZ4 frames the WebAssembly kernel is not fed
 * as they are (a page stored as an uncompressed block, or split over several blocks, which
 * may depend on each other): a decoder that writes into a caller's buffer and lets matches
 * reach back to a floor the caller sets (the start of the block, or of the page for dependent
 * blocks), and the writer of a literals-only block, the form in which such a page then goes
 * through the kernel. Written from the LZ4 block format description.
 */
import { LZ4_ERR_OFFSET, LZ4_ERR_OVERFLOW, LZ4_ERR_TRUNCATED } from './lz4-wasm-decoder.ts';

/**
 * Decodes the block `src[srcStart, srcEnd)` into `dst` from `dstStart`, writing nothing at or
 * past `dstEnd`. A match may copy from no earlier than `floor`. Returns the position after the
 * last byte written, or one of the `LZ4_ERR_*` codes of `lz4-wasm-decoder.ts`.
 */
export function decodeBlockInto(src: Uint8Array, srcStart: number, srcEnd: number, dst: Uint8Array, dstStart: number, dstEnd: number, floor: number): number {
  let ip = srcStart;
  let op = dstStart;
  while (ip < srcEnd) {
    const token = src[ip++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (ip >= srcEnd) return LZ4_ERR_TRUNCATED;
        byte = src[ip++]!;
        literals += byte;
      } while (byte === 255);
    }
    if (literals > srcEnd - ip) return LZ4_ERR_TRUNCATED;
    if (literals > dstEnd - op) return LZ4_ERR_OVERFLOW;
    dst.set(src.subarray(ip, ip + literals), op);
    ip += literals;
    op += literals;
    // The last sequence has literals only.
    if (ip === srcEnd) return op;
    if (srcEnd - ip < 2) return LZ4_ERR_TRUNCATED;
    const offset = src[ip]! | (src[ip + 1]! << 8);
    ip += 2;
    if (offset === 0 || op - offset < floor) return LZ4_ERR_OFFSET;
    let length = token & 15;
    if (length === 15) {
      let byte: number;
      do {
        if (ip >= srcEnd) return LZ4_ERR_TRUNCATED;
        byte = src[ip++]!;
        length += byte;
      } while (byte === 255);
    }
    length += 4;
    if (length > dstEnd - op) return LZ4_ERR_OVERFLOW;
    // Byte by byte: a match may overlap the bytes it produces.
    for (let from = op - offset, end = op + length; op < end; ) dst[op++] = dst[from++]!;
  }
  return op;
}

/** Bytes of the literals-only block `writeLiteralBlock` makes of `n` bytes. */
export function literalBlockSize(n: number): number {
  return 1 + (n >= 15 ? Math.floor((n - 15) / 255) + 1 : 0) + n;
}

/** Writes `data` at `dst[at]` as one LZ4 block of literals only; returns the bytes written. */
export function writeLiteralBlock(data: Uint8Array, dst: Uint8Array, at: number): number {
  const n = data.byteLength;
  let p = at;
  if (n < 15) {
    dst[p++] = n << 4;
  } else {
    dst[p++] = 0xf0;
    let rest = n - 15;
    while (rest >= 255) {
      dst[p++] = 255;
      rest -= 255;
    }
    dst[p++] = rest;
  }
  dst.set(data, p);
  return p + n - at;
}
