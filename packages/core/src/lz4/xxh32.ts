/**
 * xxHash32 (seed 0), the checksum of the LZ4 frame format: its header checksum byte, its
 * optional block checksums and its optional content checksum. Only LZ4 frames need it (LTX
 * files with frame pages, Litestream v0.5.0 – v0.5.15, and Litestream v0.3 objects), so it is
 * loaded on first use: a process that reads only LTX block pages never loads it.
 *
 * xxhash-wasm does the work (WebAssembly, ~2.2 GB/s on 4 KiB pages here, copy into its
 * memory included); where WebAssembly cannot run (`node --jitless`), js-xxhash, a pure-JS
 * implementation (~0.45 GB/s), takes over for whole buffers. See docs/ARCHITECTURE.md for the
 * choice.
 */
import type { XXHashAPI } from 'xxhash-wasm';
import { webAssemblyApi } from '../checksum/crc64-wasm.ts';

/** xxHash32 of `bytes` with seed 0, as an unsigned 32-bit number. */
export type Xxh32 = (bytes: Uint8Array) => number;

/** xxHash32 (seed 0) of bytes handed over in pieces: `update` each piece, then `digest`. */
export interface Xxh32Stream {
  update(bytes: Uint8Array): unknown;
  digest(): number;
}

let wasm: Promise<XXHashAPI> | undefined;
let loading: Promise<Xxh32> | undefined;

/** The xxHash32 function: xxhash-wasm, or js-xxhash where WebAssembly is unavailable. */
export function loadXxh32(options: { js?: boolean } = {}): Promise<Xxh32> {
  if (options.js === true) return loadJs();
  return (loading ??= loadWasm().then(
    ({ h32Raw }): Xxh32 => (bytes) => h32Raw(bytes, 0) >>> 0,
    () => loadJs(),
  ));
}

/**
 * A maker of running xxHash32s, for content too large to hold at once (a whole Litestream v0.3
 * snapshot). xxhash-wasm only: js-xxhash hashes whole buffers, so this rejects where
 * WebAssembly cannot run.
 */
export async function loadXxh32Stream(): Promise<() => Xxh32Stream> {
  const { create32 } = await loadWasm();
  return () => create32(0);
}

/** xxhash-wasm, instantiated once; a failed load is tried again on the next call. */
function loadWasm(): Promise<XXHashAPI> {
  return (wasm ??= (async () => {
    if (webAssemblyApi() === undefined) throw new Error('WebAssembly is not available in this runtime');
    const { default: xxhash } = await import('xxhash-wasm');
    return xxhash();
  })().catch((error: unknown) => {
    wasm = undefined;
    throw error;
  }));
}

async function loadJs(): Promise<Xxh32> {
  const { xxHash32 } = await import('js-xxhash');
  return (bytes) => xxHash32(bytes, 0) >>> 0;
}
