/**
 * Decoding page batches on the calling thread: the WebAssembly page kernel, or, where
 * WebAssembly cannot run (`node --jitless`), lz4-napi and the JS CRC-64 doing the same
 * work frame by frame. Both leave their results in the same slot layout.
 */
import { crc64Raw, crc64Shift, pageChecksumFromRaw } from '../checksum/index.ts';
import { decompressBlock, lz4Napi } from '../lz4/block.ts';
import { LZ4_ERR_TRUNCATED } from '../lz4/lz4-wasm-decoder.ts';
import { FRAME_HEADER_SIZE, PAGE_FLAG_SIZE, PAGE_HEADER_SIZE } from './constants.ts';
import {
  BatchSlot,
  kernelBytes,
  outputOffset,
  slotLayout,
  writePageRuns,
  type BatchOutcome,
  type EncodeOutcome,
  type LocalExecutor,
} from './page-batch.ts';
import { PageKernel } from './page-kernel.ts';
import { RESULT_DETAIL, RESULT_SEGMENT, RESULT_XOR } from './page-kernel-module.ts';

/** Two slots: with workers, this thread may hold a decoded batch while decoding the next. */
const LOCAL_SLOTS = 2;
const OUT = outputOffset(LOCAL_SLOTS);

/** Memories kept for reuse (one per decoder at a time): a restore of 1,000 files makes one. */
const idle: (PageKernel | Uint8Array)[] = [];
const MAX_IDLE = 4;
let wasmUnavailable = false;

/** An executor for one decoder: the WebAssembly kernel, or the JS fallback where it cannot run. */
export function acquireLocalExecutor(options: { js?: boolean } = {}): LocalExecutor {
  const js = options.js === true || wasmUnavailable;
  const index = idle.findIndex((m) => (m instanceof Uint8Array) === js);
  if (index >= 0) {
    const memory = idle.splice(index, 1)[0]!;
    return memory instanceof Uint8Array ? new JsExecutor(memory) : new WasmExecutor(memory);
  }
  if (!js) {
    try {
      const kernel = PageKernel.create();
      kernel.ensure(kernelBytes(LOCAL_SLOTS));
      return new WasmExecutor(kernel);
    } catch {
      wasmUnavailable = true;
    }
  }
  return new JsExecutor(new Uint8Array(kernelBytes(LOCAL_SLOTS)));
}

function keep(memory: PageKernel | Uint8Array): void {
  if (idle.length < MAX_IDLE && !idle.includes(memory)) idle.push(memory);
}

/** Slots decoded synchronously on this thread; pages written with synchronous positioned writes. */
abstract class SlotExecutor implements LocalExecutor {
  private readonly free: BatchSlot[];
  private readonly all: BatchSlot[];
  private closed = false;

  constructor(memory: Uint8Array) {
    this.all = Array.from({ length: LOCAL_SLOTS }, (_, i) => new BatchSlot(memory, slotLayout(i), -1, i));
    this.free = [...this.all];
  }

  take(): BatchSlot | undefined {
    if (this.closed) return undefined;
    const slot = this.free.shift();
    slot?.reset();
    return slot;
  }

  decode(slot: BatchSlot, pageSize: number, register: bigint, fd: number | undefined): BatchOutcome {
    const done = this.run(slot, pageSize, register);
    if (done !== slot.frames) return { failedAt: done, detail: slot.detail() };
    if (fd !== undefined) writePageRuns(fd, slot.memory, OUT, pageSize, slot.frames, (i) => slot.pgno(i));
    return { failedAt: -1, detail: 0 };
  }

  pages(count: number, pageSize: number): Uint8Array {
    return this.all[0]!.memory.subarray(OUT, OUT + count * pageSize);
  }

  abstract encode(slot: BatchSlot, pageSize: number, register: bigint): EncodeOutcome;

  release(slot: BatchSlot): void {
    if (this.all.includes(slot) && !this.free.includes(slot)) this.free.push(slot);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    keep(this.memoryToKeep());
  }

  /** Decodes the slot's frames into the output area; returns how many decoded. */
  protected abstract run(slot: BatchSlot, pageSize: number, register: bigint): number;

  protected abstract memoryToKeep(): PageKernel | Uint8Array;
}

class WasmExecutor extends SlotExecutor {
  private readonly kernel: PageKernel;
  constructor(kernel: PageKernel) {
    super(kernel.bytes);
    this.kernel = kernel;
  }
  protected run(slot: BatchSlot, pageSize: number, register: bigint): number {
    this.kernel.usePageSize(pageSize);
    const { input, sums, result } = slot.layout;
    return this.kernel.exports.decodeFrames(input, slot.frames, OUT, pageSize, sums, result, register);
  }
  encode(slot: BatchSlot, pageSize: number, register: bigint): EncodeOutcome {
    this.kernel.usePageSize(pageSize);
    const { input, frames, pgnos, sums, result } = slot.layout;
    return { bytes: this.kernel.exports.encodeFrames(input, slot.frames, pageSize, frames, pgnos, sums, result, register) };
  }
  protected memoryToKeep(): PageKernel {
    return this.kernel;
  }
}

/** The same work with lz4-napi and the CRC-64 module, frame by frame. */
class JsExecutor extends SlotExecutor {
  private readonly memory: Uint8Array;
  constructor(memory: Uint8Array) {
    super(memory);
    this.memory = memory;
  }
  protected run(slot: BatchSlot, pageSize: number, register: bigint): number {
    const memory = this.memory;
    const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
    const { input, sums, result } = slot.layout;
    let p = input;
    let xor = 0n;
    for (let i = 0; i < slot.frames; i++) {
      const pgno = view.getUint32(p);
      const size = view.getUint32(p + PAGE_HEADER_SIZE);
      let page: Buffer;
      try {
        page = decompressBlock(memory.subarray(p + FRAME_HEADER_SIZE, p + FRAME_HEADER_SIZE + size), pageSize);
      } catch {
        view.setInt32(result + RESULT_DETAIL, LZ4_ERR_TRUNCATED, true);
        return i;
      }
      memory.set(page, OUT + i * pageSize);
      const raw = crc64Raw(0n, page);
      const sum = pageChecksumFromRaw(pgno, raw, pageSize);
      view.setBigUint64(sums + 8 * i, sum, true);
      xor ^= sum;
      register = crc64Shift(crc64Raw(register, memory.subarray(p, p + FRAME_HEADER_SIZE)), pageSize) ^ raw;
      p += FRAME_HEADER_SIZE + size;
    }
    view.setBigUint64(result + RESULT_SEGMENT, register, true);
    view.setBigUint64(result + RESULT_XOR, xor, true);
    return slot.frames;
  }
  encode(slot: BatchSlot, pageSize: number, register: bigint): EncodeOutcome {
    const memory = this.memory;
    const view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
    const { input, frames, sums, result } = slot.layout;
    const lz4 = lz4Napi();
    let p = frames;
    let xor = 0n;
    for (let i = 0; i < slot.frames; i++) {
      const pgno = slot.pgno(i);
      const page = Buffer.from(memory.buffer, memory.byteOffset + input + i * pageSize, pageSize);
      const block = lz4.compressSync(page).subarray(4);
      view.setUint32(p, pgno);
      view.setUint16(p + 4, PAGE_FLAG_SIZE);
      view.setUint32(p + PAGE_HEADER_SIZE, block.byteLength);
      memory.set(block, p + FRAME_HEADER_SIZE);
      const raw = crc64Raw(0n, page);
      const sum = pageChecksumFromRaw(pgno, raw, pageSize);
      view.setBigUint64(sums + 8 * i, sum, true);
      xor ^= sum;
      register = crc64Shift(crc64Raw(register, memory.subarray(p, p + FRAME_HEADER_SIZE)), pageSize) ^ raw;
      p += FRAME_HEADER_SIZE + block.byteLength;
    }
    view.setBigUint64(result + RESULT_SEGMENT, register, true);
    view.setBigUint64(result + RESULT_XOR, xor, true);
    return { bytes: p - frames };
  }
  protected memoryToKeep(): Uint8Array {
    return this.memory;
  }
}
