/**
 * Page batches: the unit in which the codec hands page frames to the WebAssembly page
 * kernel, on this thread (`LocalPageExecutor`) or on worker threads (`page-workers.ts`).
 *
 * A batch is up to `framesPerBatch(pageSize)` frames (1 MiB of pages), copied end to end
 * into a slot of kernel memory. The kernel decodes them into the output area, checksums
 * every page and folds the frames into the file checksum; the pages are then written to
 * the output file with one positioned write per run of consecutive page numbers.
 */
import { writeSync } from 'node:fs';
import { compressBound } from '../lz4/bounds.ts';
import { LZ4_SLACK } from '../lz4/lz4-wasm-decoder.ts';
import { FRAME_HEADER_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE } from './constants.ts';
import { RESULT_BYTES, RESULT_DETAIL, RESULT_SEGMENT, RESULT_XOR, WORK_OFFSET } from './page-kernel-module.ts';

/** Bytes of pages per batch. */
export const BATCH_PAGE_BYTES = 1 << 20;

/** Frames per batch for a page size (a fixed count, so every full batch has the same checksum length). */
export function framesPerBatch(pageSize: number): number {
  return Math.max(1, Math.floor(BATCH_PAGE_BYTES / pageSize));
}

/** Most frames any batch holds (smallest pages). */
export const MAX_BATCH_FRAMES = framesPerBatch(MIN_PAGE_SIZE);

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** Largest byte size of a full batch of frames, over every page size. */
function maxBatchInput(): number {
  let max = 0;
  for (let size = MIN_PAGE_SIZE; size <= MAX_PAGE_SIZE; size *= 2) {
    max = Math.max(max, framesPerBatch(size) * (FRAME_HEADER_SIZE + compressBound(size)));
  }
  return max;
}

/** Room for one batch of frames, whatever the page size. */
export const BATCH_INPUT_BYTES = maxBatchInput();

/**
 * Offsets of one slot inside kernel memory. Decoding: frames in `input`. Encoding: pages in
 * `input`, their frames written to `frames`. Then each page's checksum and number, and the
 * result record.
 */
export interface SlotLayout {
  readonly input: number;
  readonly frames: number;
  readonly sums: number;
  readonly pgnos: number;
  readonly result: number;
}

const INPUT_ROOM = align8(BATCH_INPUT_BYTES + LZ4_SLACK);

/** Bytes one slot takes. */
export const SLOT_BYTES = 2 * INPUT_ROOM + MAX_BATCH_FRAMES * 8 + MAX_BATCH_FRAMES * 4 + align8(RESULT_BYTES);
/** Bytes of the output area the kernel decodes a batch into. */
export const OUTPUT_BYTES = align8(BATCH_PAGE_BYTES + LZ4_SLACK);

/** The layout of slot `index` when slots are laid end to end from the work area. */
export function slotLayout(index: number): SlotLayout {
  const input = WORK_OFFSET + index * SLOT_BYTES;
  const frames = input + INPUT_ROOM;
  const sums = frames + INPUT_ROOM;
  const pgnos = sums + MAX_BATCH_FRAMES * 8;
  return { input, frames, sums, pgnos, result: pgnos + MAX_BATCH_FRAMES * 4 };
}

/** Where the output area starts after `slots` slots. */
export function outputOffset(slots: number): number {
  return WORK_OFFSET + slots * SLOT_BYTES;
}

/** Kernel memory for `slots` slots and one output area. */
export function kernelBytes(slots: number): number {
  return outputOffset(slots) + OUTPUT_BYTES;
}

/** Page number `i` of a slot: little-endian u32s, as the kernel reads them on any host. */
export function slotPgno(view: DataView, layout: SlotLayout, i: number): number {
  return view.getUint32(layout.pgnos + 4 * i, true);
}

/**
 * A slot as the thread that fills it sees it: where to copy frames, and the facts about
 * each frame it copied. Page numbers are kept in kernel memory, where a worker or the
 * kernel reads them; frame offsets and sizes stay on this side.
 */
export class BatchSlot {
  /** View of the memory holding the slot (a worker's shared memory, or a local kernel's). */
  readonly memory: Uint8Array;
  readonly layout: SlotLayout;
  /** Which worker owns the slot (-1: this thread). */
  readonly worker: number;
  /** The slot's index in its memory. */
  readonly index: number;
  readonly frameOffsets = new Float64Array(MAX_BATCH_FRAMES);
  readonly frameSizes = new Uint32Array(MAX_BATCH_FRAMES);
  /** Frames and bytes copied in so far. */
  frames = 0;
  used = 0;
  private readonly view: DataView;

  constructor(memory: Uint8Array, layout: SlotLayout, worker: number, index: number) {
    this.memory = memory;
    this.view = new DataView(memory.buffer, memory.byteOffset, memory.byteLength);
    this.layout = layout;
    this.worker = worker;
    this.index = index;
  }

  /** Page number of frame `i`. */
  pgno(i: number): number {
    return this.view.getUint32(this.layout.pgnos + 4 * i, true);
  }

  /** The memory as a DataView (for `slotPgno`). */
  get dataView(): DataView {
    return this.view;
  }

  /** Empties the slot for the next batch. */
  reset(): void {
    this.frames = 0;
    this.used = 0;
  }

  /** Appends frame bytes (whole frames, already validated). */
  append(bytes: Uint8Array): void {
    this.memory.set(bytes, this.layout.input + this.used);
    this.used += bytes.byteLength;
  }

  /**
   * Appends the header of a frame in the kernel's layout (big-endian page number, flags, and
   * the `size` of the LZ4 block that follows) and reserves the block's bytes after it; returns
   * the block's offset in `memory`, for the caller to fill. Used for LZ4 *frame* pages, which
   * are handed to the kernel rewritten this way (flags 0x0000, see `frame-pages.ts`).
   */
  appendFrameHeader(pgno: number, flags: number, size: number): number {
    const at = this.layout.input + this.used;
    this.view.setUint32(at, pgno);
    this.view.setUint16(at + 4, flags);
    this.view.setUint32(at + 6, size);
    this.used += FRAME_HEADER_SIZE + size;
    return at + FRAME_HEADER_SIZE;
  }

  /** Copies `count` pages, end to end in `pages`, and their numbers into the slot for encoding. */
  setPages(pages: Uint8Array, pgnos: ArrayLike<number>, count: number): void {
    this.memory.set(pages, this.layout.input);
    for (let i = 0; i < count; i++) this.view.setUint32(this.layout.pgnos + 4 * i, pgnos[i]!, true);
    this.frames = count;
    this.used = pages.byteLength;
  }

  /**
   * Copies one page and its number into position `i` of the batch, for pages that are not end
   * to end in memory (the batch then holds positions 0..i).
   */
  putPage(i: number, pgno: number, page: Uint8Array): void {
    this.memory.set(page, this.layout.input + i * page.byteLength);
    this.view.setUint32(this.layout.pgnos + 4 * i, pgno, true);
    this.frames = i + 1;
    this.used = (i + 1) * page.byteLength;
  }

  /** The frames an encode left in the slot. */
  encodedFrames(bytes: number): Uint8Array {
    return this.memory.subarray(this.layout.frames, this.layout.frames + bytes);
  }

  /** Records one frame copied in by `append`. */
  addFrame(pgno: number, offset: number, size: number): void {
    const i = this.frames++;
    this.view.setUint32(this.layout.pgnos + 4 * i, pgno, true);
    this.frameOffsets[i] = offset;
    this.frameSizes[i] = size;
  }

  /** Raw CRC register the kernel left for the batch's frames. */
  segment(): bigint {
    return this.view.getBigUint64(this.layout.result + RESULT_SEGMENT, true);
  }

  /** XOR of the batch's page checksums (no flag bit). */
  xor(): bigint {
    return this.view.getBigUint64(this.layout.result + RESULT_XOR, true);
  }

  /** The decoder result of the page that failed. */
  detail(): number {
    return this.view.getInt32(this.layout.result + RESULT_DETAIL, true);
  }

  /** Checksum of page `i` of the batch (bit 63 set). */
  checksum(i: number): bigint {
    return this.view.getBigUint64(this.layout.sums + 8 * i, true);
  }
}

/** What decoding a batch found: all frames decoded, or the index of the first that did not. */
export interface BatchOutcome {
  /** Index of the first frame that failed to decode, or -1. */
  readonly failedAt: number;
  /** For a failure: the LZ4 decoder's result for that frame. */
  readonly detail: number;
}

/**
 * Writes the decoded pages of a batch to `fd`, page `pgno(i)` at `(pgno - 1) · pageSize`,
 * one positioned write per run of consecutive page numbers.
 */
export function writePageRuns(fd: number, memory: Uint8Array, out: number, pageSize: number, count: number, pgno: (i: number) => number): void {
  let i = 0;
  while (i < count) {
    const first = pgno(i);
    let j = i + 1;
    while (j < count && pgno(j) === first + (j - i)) j++;
    writeFully(fd, memory, out + i * pageSize, (j - i) * pageSize, (first - 1) * pageSize);
    i = j;
  }
}

function writeFully(fd: number, memory: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    done += writeSync(fd, memory, offset + done, length - done, position + done);
  }
}

/** Decodes batches on the calling thread (`local-executor.ts`). */
export interface LocalExecutor {
  /** A free slot, emptied, or undefined while every slot holds a batch not yet released. */
  take(): BatchSlot | undefined;
  /**
   * Decodes the slot's frames with the file checksum continuing from `register` (the slot's
   * `segment()` is then the register after them). With `fd`, starts writing the pages there;
   * the writes finish in the background (`flush` waits for them and reports their errors).
   */
  decode(slot: BatchSlot, pageSize: number, register: bigint, fd: number | undefined): Promise<BatchOutcome>;
  /** Waits for the pages' writes; throws the first write error. */
  flush(): Promise<void>;
  /** Waits for the pages' writes, whatever their outcome. */
  settle(): Promise<void>;
  /** The decoded pages of the last batch, end to end. */
  pages(count: number, pageSize: number): Uint8Array;
  /**
   * Compresses the slot's pages (in `input`, numbered by `pgnos`) into frames in `frames`,
   * checksumming them with the file checksum continuing from `register`.
   */
  encode(slot: BatchSlot, pageSize: number, register: bigint): EncodeOutcome;
  release(slot: BatchSlot): void;
  /** Gives the executor's memory back for reuse (once its writes are done); the executor is unusable afterwards. */
  close(): void;
}

/** What encoding a batch produced: the byte length of its frames. */
export interface EncodeOutcome {
  readonly bytes: number;
}

/** Decodes batches on other threads (`PageWorkerPool`). */
export interface PagePool {
  /** A free slot, emptied, or undefined when every slot holds a batch. */
  take(): BatchSlot | undefined;
  /**
   * Decodes the slot's frames with the file checksum starting from zero (the caller shifts
   * its register past the batch and combines), writing the pages to `fd` when given.
   */
  decode(slot: BatchSlot, pageSize: number, fd: number | undefined): Promise<BatchOutcome>;
  /** Compresses and checksums the slot's pages (file checksum from zero, as for `decode`). */
  encode(slot: BatchSlot, pageSize: number): Promise<EncodeOutcome>;
  release(slot: BatchSlot): void;
}


/**
 * A batch on its way through a kernel (a worker's or this thread's): `outcome` settles when
 * its results are in its slot, `result` is set then. Jobs are awaited in order later, so a
 * failure is kept from counting as unhandled until then.
 */
export class BatchJob<T> {
  readonly slot: BatchSlot;
  readonly outcome: Promise<T>;
  result: T | undefined;

  constructor(slot: BatchSlot, outcome: Promise<T> | T) {
    this.slot = slot;
    if (outcome instanceof Promise) {
      this.outcome = outcome.then((result) => (this.result = result));
      this.outcome.catch(() => {});
    } else {
      this.result = outcome;
      this.outcome = Promise.resolve(outcome);
    }
  }

  get done(): boolean {
    return this.result !== undefined;
  }
}
