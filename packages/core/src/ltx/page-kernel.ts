/**
 * The LTX page kernel from JS: instantiates `page-kernel-module.ts`, fills its CRC tables,
 * keeps the shift table of the page size in use, and exposes the batch functions. One
 * kernel per thread; workers make their own, on a memory the main thread may share.
 */
import { makeShiftTable, makeSlicingTables } from '../checksum/crc64-table.ts';
import { SHIFT_TABLE_BYTES, WASM_PAGE_BYTES, type WasmMemory } from '../checksum/crc64-wasm-module.ts';
import { webAssemblyApi } from '../checksum/crc64-wasm.ts';
import { buildPageKernelModule, KERNEL_SLICES, PAGE_SHIFT_TABLE, WORK_OFFSET, type PageKernelExports } from './page-kernel-module.ts';

/** The slice of the `WebAssembly` global used to make memories and instances with imports. */
interface WebAssemblyWithImports {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** Table images (little-endian bytes), built once per process and copied into each kernel. */
let slicingImage: Uint8Array | undefined;
const shiftImages = new Map<number, Uint8Array>();
const modules = new Map<string, object>();

/** A table as the little-endian bytes WebAssembly memory holds. */
function tableImage(table: BigUint64Array): Uint8Array {
  const bytes = new Uint8Array(table.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < table.length; i++) view.setBigUint64(8 * i, table[i]!, true);
  return bytes;
}

function api(): WebAssemblyWithImports {
  const wasm = webAssemblyApi() as WebAssemblyWithImports | undefined;
  if (wasm === undefined) throw new Error('WebAssembly is not available in this runtime');
  return wasm;
}

function compiled(key: string, build: () => Uint8Array): object {
  let module = modules.get(key);
  if (module === undefined) {
    module = new (api().Module)(build());
    modules.set(key, module);
  }
  return module;
}

/** Memory pages (64 KiB) needed to hold `bytes`. */
export function wasmPagesFor(bytes: number): number {
  return Math.ceil(bytes / WASM_PAGE_BYTES);
}

/** A memory several threads can hold: pass it to `PageKernel.create` in each. */
export function createSharedKernelMemory(bytes: number): WasmMemory {
  const pages = wasmPagesFor(Math.max(bytes, WORK_OFFSET));
  return new (api().Memory)({ initial: pages, maximum: pages, shared: true });
}

/** One instance of the page kernel. */
export class PageKernel {
  readonly exports: PageKernelExports;
  readonly memory: WasmMemory;
  #bytes: Uint8Array;
  #pageSize = 0;

  private constructor(exports: PageKernelExports, memory: WasmMemory, fillTables: boolean) {
    this.exports = exports;
    this.memory = memory;
    this.#bytes = new Uint8Array(memory.buffer);
    if (fillTables) {
      slicingImage ??= tableImage(makeSlicingTables(KERNEL_SLICES));
      this.#bytes.set(slicingImage, 0);
    }
  }

  /**
   * Makes a kernel with its own growable memory, or on `shared`, a fixed-size shared
   * memory from `createSharedKernelMemory`. Throws where WebAssembly is unavailable.
   */
  static create(shared?: WasmMemory): PageKernel {
    const wasm = api();
    if (shared === undefined) {
      const module = compiled('own', () => buildPageKernelModule(wasmPagesFor(WORK_OFFSET) + 1));
      const instance = new wasm.Instance(module);
      const exports = instance.exports as PageKernelExports;
      return new PageKernel(exports, exports.memory, true);
    }
    const instance = new wasm.Instance(PageKernel.sharedModule(shared), { env: { memory: shared } });
    return new PageKernel(instance.exports as PageKernelExports, shared, true);
  }

  /** The compiled module for a shared memory of that size: pass it to a worker with the memory. */
  static sharedModule(shared: WasmMemory): object {
    const pages = shared.buffer.byteLength / WASM_PAGE_BYTES;
    return compiled(`shared-${pages}`, () => buildPageKernelModule(pages, { import: { maximumPages: pages, shared: true } }));
  }

  /**
   * A kernel on a shared memory whose tables another thread already filled (with
   * `create(shared)`), from the module `sharedModule` compiled there: a worker starts
   * without assembling, compiling or building tables.
   */
  static attach(shared: WasmMemory, module: object): PageKernel {
    const instance = new (api().Instance)(module, { env: { memory: shared } });
    return new PageKernel(instance.exports as PageKernelExports, shared, false);
  }

  /** A view of the whole memory (renewed when the memory grows). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Grows the memory (own memory only) so that `[0, end)` exists. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    this.memory.grow(wasmPagesFor(end - have));
    this.#bytes = new Uint8Array(this.memory.buffer);
  }

  /** Loads the shift table for `pageSize` unless it is already the current one. */
  usePageSize(pageSize: number): void {
    if (pageSize === this.#pageSize) return;
    let image = shiftImages.get(pageSize);
    if (image === undefined) {
      image = tableImage(makeShiftTable(pageSize));
      shiftImages.set(pageSize, image);
    }
    if (image.byteLength !== SHIFT_TABLE_BYTES) throw new RangeError('shift table does not fit its slot');
    this.#bytes.set(image, PAGE_SHIFT_TABLE);
    this.#pageSize = pageSize;
  }
}
