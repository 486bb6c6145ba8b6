/**
 * xxHash32 (seed 0), the checksum of the LZ4 frame format: its header checksum byte, its
 * optional block checksums and its optional content checksum. Only LTX files with LZ4
 * *frame* pages (Litestream v0.5.0 – v0.5.15) need it, so it is loaded on first use.
 *
 * xxhash-wasm does the work (WebAssembly, ~2.2 GB/s on 4 KiB pages here, copy into its
 * memory included); where WebAssembly cannot run (`node --jitless`), js-xxhash, a pure-JS
 * implementation (~0.45 GB/s), takes over. See docs/ARCHITECTURE.md for the choice.
 */
import { webAssemblyApi } from '../checksum/crc64-wasm.ts';

/** xxHash32 of `bytes` with seed 0, as an unsigned 32-bit number. */
export type Xxh32 = (bytes: Uint8Array) => number;

let loading: Promise<Xxh32> | undefined;

/** The xxHash32 function: xxhash-wasm, or js-xxhash where WebAssembly is unavailable. */
export function loadXxh32(options: { js?: boolean } = {}): Promise<Xxh32> {
  if (options.js === true) return loadJs();
  return (loading ??= loadWasm().catch(() => loadJs()));
}

async function loadWasm(): Promise<Xxh32> {
  if (webAssemblyApi() === undefined) throw new Error('WebAssembly is not available in this runtime');
  const { default: xxhash } = await import('xxhash-wasm');
  const { h32Raw } = await xxhash();
  return (bytes) => h32Raw(bytes, 0) >>> 0;
}

async function loadJs(): Promise<Xxh32> {
  const { xxHash32 } = await import('js-xxhash');
  return (bytes) => xxHash32(bytes, 0) >>> 0;
}
