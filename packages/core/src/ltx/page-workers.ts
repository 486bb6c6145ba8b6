/**
 * Worker threads that decompress and checksum LTX pages (and write them to the output
 * file) for large files, so the per-page work of a big restore uses every core while the
 * calling thread only reads, validates frames and keeps the checksums in order.
 *
 * Each worker owns a shared WebAssembly memory with `SLOTS_PER_WORKER` batch slots. The
 * calling thread copies frames straight into a free slot, posts its number, and reads the
 * results from the slot when the worker answers; nothing is copied back. Memory is fixed:
 * about 3.3 MiB of slots per worker, whatever the file size.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WasmMemory } from '../checksum/crc64-wasm-module.ts';
import { webAssemblyApi } from '../checksum/crc64-wasm.ts';
import { BatchSlot, kernelBytes, slotLayout, type BatchOutcome, type EncodeOutcome, type PagePool } from './page-batch.ts';
import { createSharedKernelMemory, PageKernel } from './page-kernel.ts';

/** A job for a worker: decode the frames in slot `slot`, or compress its pages into frames. */
export interface PageWorkerRequest {
  readonly id: number;
  readonly op: 'decode' | 'encode';
  readonly slot: number;
  readonly frames: number;
  readonly pageSize: number;
  /** Where to write the decoded pages, or -1. */
  readonly fd: number;
}

/** A worker's answer: the batch's outcome, or what went wrong (a failed write, say). */
export type PageWorkerReply =
  | { readonly id: number; readonly failedAt: number; readonly detail: number }
  | { readonly id: number; readonly bytes: number }
  | { readonly id: number; readonly error: { readonly message: string; readonly code: string | undefined } };

/** Batches one worker holds at once: one being worked on, one waiting. */
export const SLOTS_PER_WORKER = 2;

/** Most workers a pool starts by default, whatever the core count. */
const MAX_DEFAULT_WORKERS = 3;

/**
 * Workers worth starting on this machine: with 4 cores or more, one per core but two (the
 * calling thread decodes or encodes too, and the thread pool writes), up to 3. Below that,
 * none: on 2 cores a worker competes with both for the same cores, bought ~25% on a 1 GB
 * restore measured alone and next to nothing once real disk writes were in the picture, and
 * costs ~18 MB of memory (a worker is a whole Node environment). None either where
 * WebAssembly cannot run.
 */
export function defaultPageWorkers(): number {
  // Workers run the WebAssembly kernel; without WebAssembly (node --jitless) this thread does all.
  if (webAssemblyApi() === undefined) return 0;
  const cores = availableParallelism();
  return cores < 4 ? 0 : Math.min(cores - 2, MAX_DEFAULT_WORKERS);
}

/** The worker script beside this module: `.ts` when running from source, `.js` when built. */
function workerUrl(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./page-worker${ext}`, import.meta.url);
}

interface PoolWorker {
  readonly worker: Worker;
  readonly memory: WasmMemory;
}

interface Pending {
  readonly slot: BatchSlot;
  readonly resolve: (outcome: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A fixed set of page workers. Start one for a large job and `close()` it after; it holds
 * no file or socket, and its threads do not keep the process alive while idle.
 *
 * ```ts
 * const pool = new PageWorkerPool();
 * try {
 *   await applier.apply(source, name, { pool });
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class PageWorkerPool implements PagePool {
  /** Number of worker threads. */
  readonly size: number;
  private readonly workers: PoolWorker[] = [];
  private readonly free: BatchSlot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private closed = false;

  /** Starts `workers` threads (default `defaultPageWorkers()`, at least 1). */
  constructor(workers: number = defaultPageWorkers()) {
    this.size = Math.max(1, Math.floor(workers));
    const slotsByWorker: BatchSlot[][] = [];
    for (let w = 0; w < this.size; w++) {
      const memory = createSharedKernelMemory(kernelBytes(SLOTS_PER_WORKER));
      // Tables filled and the module compiled here, once: the worker only instantiates it.
      const module = PageKernel.sharedModule(memory);
      PageKernel.create(memory);
      // The workers allocate next to nothing: a small young generation keeps their heaps small.
      const worker = new Worker(workerUrl(), { workerData: { memory, module, slots: SLOTS_PER_WORKER }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
      worker.unref();
      worker.on('message', (reply: PageWorkerReply) => this.settle(reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`page worker ${w} exited with code ${code}`));
      });
      this.workers.push({ worker, memory });
      const bytes = new Uint8Array(memory.buffer);
      slotsByWorker.push(Array.from({ length: SLOTS_PER_WORKER }, (_, s) => new BatchSlot(bytes, slotLayout(s), w, s)));
    }
    // Interleaved, so consecutive batches go to different workers.
    for (let s = 0; s < SLOTS_PER_WORKER; s++) for (const slots of slotsByWorker) this.free.push(slots[s]!);
  }

  take(): BatchSlot | undefined {
    if (this.failure) throw this.failure;
    const slot = this.free.shift();
    slot?.reset();
    return slot;
  }

  decode(slot: BatchSlot, pageSize: number, fd: number | undefined): Promise<BatchOutcome> {
    return this.run<BatchOutcome>(slot, { op: 'decode', slot: slot.index, frames: slot.frames, pageSize, fd: fd ?? -1 });
  }

  encode(slot: BatchSlot, pageSize: number): Promise<EncodeOutcome> {
    return this.run<EncodeOutcome>(slot, { op: 'encode', slot: slot.index, frames: slot.frames, pageSize, fd: -1 });
  }

  private run<T>(slot: BatchSlot, job: Omit<PageWorkerRequest, 'id'>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { slot, resolve: resolve as (outcome: unknown) => void, reject });
      const { worker } = this.workers[slot.worker]!;
      // A job in flight keeps the process alive until its answer arrives.
      worker.ref();
      worker.postMessage({ id, ...job } satisfies PageWorkerRequest);
    });
  }

  release(slot: BatchSlot): void {
    if (!this.free.includes(slot)) this.free.push(slot);
  }

  /** Stops the threads. Jobs still in flight are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('page worker pool closed'));
    await Promise.all(this.workers.map(({ worker }) => worker.terminate()));
  }

  private settle(reply: PageWorkerReply): void {
    const job = this.pending.get(reply.id);
    if (job === undefined) return;
    this.pending.delete(reply.id);
    this.unrefIdle(job.slot.worker);
    if ('error' in reply) {
      const error = new Error(reply.error.message) as NodeJS.ErrnoException;
      if (reply.error.code !== undefined) error.code = reply.error.code;
      job.reject(error);
    } else if ('bytes' in reply) {
      job.resolve({ bytes: reply.bytes });
    } else {
      job.resolve({ failedAt: reply.failedAt, detail: reply.detail });
    }
  }

  private unrefIdle(worker: number): void {
    for (const job of this.pending.values()) if (job.slot.worker === worker) return;
    this.workers[worker]?.worker.unref();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const [id, job] of this.pending) {
      this.pending.delete(id);
      job.reject(error);
    }
    for (const { worker } of this.workers) worker.unref();
  }
}
