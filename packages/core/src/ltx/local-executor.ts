/**
 * Decoding page batches on the calling thread: the WebAssembly page kernel, or, where
 * WebAssembly cannot run (`node --jitless`), lz4-napi and the JS CRC-64 doing the same
 * work frame by frame. Both leave their results in the same slot layout.
 */
import { crc64Raw, crc64Shift, pageChecksumFromRaw } from '../checksum/index.ts';
import { decompressBlock, lz4Napi } from '../lz4/block.ts';
import { LZ4_ERR_TRUNCATED } from '../lz4/lz4-wasm-decoder.ts';
import { FRAME_HEADER_SIZE, PAGE_FLAG_SIZE, PAGE_HEADER_SIZE } from './constants.ts';
import { write } from 'node:fs';
import {
  BatchSlot,
  OUTPUT_BYTES,
  outputOffset,
  slotLayout,
  type BatchOutcome,
  type EncodeOutcome,
  type LocalExecutor,
} from './page-batch.ts';
import { PageKernel } from './page-kernel.ts';
import { RESULT_DETAIL, RESULT_SEGMENT, RESULT_XOR } from './page-kernel-module.ts';

/** Two slots: with workers, this thread may hold a decoded batch while decoding the next. */
const LOCAL_SLOTS = 2;
/**
 * Output areas, used in turn: a batch's pages are written from its area by the libuv
 * threadpool while the next batches are decoded into the others, so decoding and writing
 * overlap even without worker threads.
 */
const LOCAL_OUTPUTS = 3;
const OUT = outputOffset(LOCAL_SLOTS);
const LOCAL_BYTES = OUT + LOCAL_OUTPUTS * OUTPUT_BYTES;

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
      kernel.ensure(LOCAL_BYTES);
      return new WasmExecutor(kernel);
    } catch {
      wasmUnavailable = true;
    }
  }
  return new JsExecutor(new Uint8Array(LOCAL_BYTES));
}

function keep(memory: PageKernel | Uint8Array): void {
  if (idle.length < MAX_IDLE && !idle.includes(memory)) idle.push(memory);
}

/**
 * Slots decoded on this thread, synchronously, each into the next output area; the pages
 * are then written to the file asynchronously (one positioned write per run of pages), and
 * an area is reused only once its writes are done. The kernel's memory never grows after
 * creation, so the views handed to pending writes stay valid.
 */
abstract class SlotExecutor implements LocalExecutor {
  protected readonly memory: Uint8Array;
  private readonly free: BatchSlot[];
  private readonly all: BatchSlot[];
  /** Writes still running from each output area. */
  private readonly writes: (Promise<void> | undefined)[] = new Array(LOCAL_OUTPUTS).fill(undefined);
  private writeError: unknown;
  private nextArea = 0;
  private lastOut = OUT;
  private closed = false;

  constructor(memory: Uint8Array) {
    this.memory = memory;
    this.all = Array.from({ length: LOCAL_SLOTS }, (_, i) => new BatchSlot(memory, slotLayout(i), -1, i));
    this.free = [...this.all];
  }

  take(): BatchSlot | undefined {
    if (this.closed) return undefined;
    const slot = this.free.shift();
    slot?.reset();
    return slot;
  }

  async decode(slot: BatchSlot, pageSize: number, register: bigint, fd: number | undefined): Promise<BatchOutcome> {
    const area = this.nextArea;
    this.nextArea = (area + 1) % LOCAL_OUTPUTS;
    await this.writes[area];
    this.throwWriteError();
    const out = OUT + area * OUTPUT_BYTES;
    this.lastOut = out;
    const done = this.run(slot, pageSize, register, out);
    if (done !== slot.frames) return { failedAt: done, detail: slot.detail() };
    if (fd !== undefined) {
      const pgnos = Array.from({ length: slot.frames }, (_, i) => slot.pgno(i));
      this.writes[area] = writePages(fd, this.memory, out, pageSize, pgnos).catch((error: unknown) => {
        this.writeError ??= error;
      });
    }
    return { failedAt: -1, detail: 0 };
  }

  async flush(): Promise<void> {
    await this.settle();
    this.throwWriteError();
  }

  async settle(): Promise<void> {
    await Promise.all(this.writes);
    this.writes.fill(undefined);
  }

  pages(count: number, pageSize: number): Uint8Array {
    return this.memory.subarray(this.lastOut, this.lastOut + count * pageSize);
  }

  abstract encode(slot: BatchSlot, pageSize: number, register: bigint): EncodeOutcome;

  release(slot: BatchSlot): void {
    if (this.all.includes(slot) && !this.free.includes(slot)) this.free.push(slot);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Reusable once its writes are done (a failed write's error was already reported or dropped).
    void this.settle().then(() => keep(this.memoryToKeep()));
  }

  private throwWriteError(): void {
    const error = this.writeError;
    if (error === undefined) return;
    this.writeError = undefined;
    throw error;
  }

  /** Decodes the slot's frames into the output area at `out`; returns how many decoded. */
  protected abstract run(slot: BatchSlot, pageSize: number, register: bigint, out: number): number;

  protected abstract memoryToKeep(): PageKernel | Uint8Array;
}

/** Writes pages `pgnos` (laid end to end from `out`) at their places, one positioned write per run, all at once. */
function writePages(fd: number, memory: Uint8Array, out: number, pageSize: number, pgnos: readonly number[]): Promise<void> {
  const runs: Promise<void>[] = [];
  let i = 0;
  while (i < pgnos.length) {
    const first = pgnos[i]!;
    let j = i + 1;
    while (j < pgnos.length && pgnos[j] === first + (j - i)) j++;
    runs.push(writeFully(fd, memory, out + i * pageSize, (j - i) * pageSize, (first - 1) * pageSize));
    i = j;
  }
  return Promise.all(runs).then(() => {});
}

function writeFully(fd: number, memory: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      if (done >= length) return resolve();
      write(fd, memory, offset + done, length - done, position + done, (error, written) => (error ? reject(error) : step(done + written)));
    };
    step(0);
  });
}

class WasmExecutor extends SlotExecutor {
  private readonly kernel: PageKernel;
  constructor(kernel: PageKernel) {
    super(kernel.bytes);
    this.kernel = kernel;
  }
  protected run(slot: BatchSlot, pageSize: number, register: bigint, out: number): number {
    this.kernel.usePageSize(pageSize);
    const { input, sums, result } = slot.layout;
    return this.kernel.exports.decodeFrames(input, slot.frames, out, pageSize, sums, result, register);
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
  constructor(memory: Uint8Array) {
    super(memory);
  }
  protected run(slot: BatchSlot, pageSize: number, register: bigint, out: number): number {
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
      memory.set(page, out + i * pageSize);
      const raw = crc64Raw(0n, page);
      const sum = pageChecksumFromRaw(pgno, raw, pageSize);
      view.setBigUint64(sums + 8 * i, sum, true);
      xor ^= sum;
      // The file checksum covers the size field of block pages (flags 0x0001), not of rewritten frame pages (0x0000).
      const hashed = PAGE_HEADER_SIZE + 4 * memory[p + 5]!;
      register = crc64Shift(crc64Raw(register, memory.subarray(p, p + hashed)), pageSize) ^ raw;
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
