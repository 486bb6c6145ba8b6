import { createRequire } from 'node:module';
import { compressBound } from './bounds.ts';

export { compressBound };

/**
 * LZ4 *block* compression for LTX page frames, through lz4-napi (native, prebuilt).
 * lz4-napi frames a block with a 4-byte little-endian uncompressed size; LTX stores the
 * bare block, so the prefix is stripped on write and put back on read.
 */

type Lz4Napi = typeof import('lz4-napi');
let lz4: Lz4Napi | undefined;

/**
 * lz4-napi, loaded on first use: decoding runs on our WebAssembly kernel, so a process that
 * only restores never maps the native library (about 7 MB of RSS).
 */
export function lz4Napi(): Lz4Napi {
  if (lz4 === undefined) {
    // lz4-napi links mimalloc with large OS pages allowed; with transparent huge pages in
    // `madvise` mode some processes then spend as much time zeroing 2 MiB pages as
    // compressing (measured in bench/). The setting is read when the native module loads,
    // so it is set before the module is required, and only when the user has not chosen
    // otherwise.
    process.env.MIMALLOC_ALLOW_LARGE_OS_PAGES ??= '0';
    lz4 = createRequire(import.meta.url)('lz4-napi') as Lz4Napi;
  }
  return lz4;
}

/** Compresses one page into a bare LZ4 block. */
export function compressBlock(data: Uint8Array): Buffer {
  const prefixed = lz4Napi().compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return prefixed.subarray(4);
}

// One reusable input buffer for decompression: the prefixed copy of a block is garbage
// the moment lz4 returns, and allocating it per page inflated the young generation.
let scratch = Buffer.allocUnsafeSlow(4 + compressBound(4096));

/**
 * Decompresses a bare LZ4 block that must expand to exactly `size` bytes.
 * Throws an Error with lz4's reason when the block is malformed or the size differs.
 */
export function decompressBlock(block: Uint8Array, size: number): Buffer {
  if (scratch.byteLength < block.byteLength + 4) scratch = Buffer.allocUnsafeSlow(block.byteLength + 4);
  scratch.writeUInt32LE(size, 0);
  scratch.set(block, 4);
  const out = lz4Napi().uncompressSync(scratch.subarray(0, block.byteLength + 4));
  if (out.byteLength !== size) throw new Error(`block expands to ${out.byteLength} bytes, expected ${size}`);
  return out;
}
