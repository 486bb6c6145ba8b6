import lz4 from 'lz4-napi';

/**
 * LZ4 *block* compression for LTX page frames, through lz4-napi (native, prebuilt).
 * lz4-napi frames a block with a 4-byte little-endian uncompressed size; LTX stores the
 * bare block, so the prefix is stripped on write and put back on read.
 */

/** Compresses one page into a bare LZ4 block. */
export function compressBlock(data: Uint8Array): Buffer {
  const prefixed = lz4.compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return prefixed.subarray(4);
}

/**
 * Decompresses a bare LZ4 block that must expand to exactly `size` bytes.
 * Throws an Error with lz4's reason when the block is malformed or the size differs.
 */
export function decompressBlock(block: Uint8Array, size: number): Buffer {
  const prefixed = Buffer.allocUnsafe(block.byteLength + 4);
  prefixed.writeUInt32LE(size, 0);
  prefixed.set(block, 4);
  const out = lz4.uncompressSync(prefixed);
  if (out.byteLength !== size) throw new Error(`block expands to ${out.byteLength} bytes, expected ${size}`);
  return out;
}

/** Largest compressed size LZ4 can produce for `size` input bytes. */
export function compressBound(size: number): number {
  return size + Math.floor(size / 255) + 16;
}
