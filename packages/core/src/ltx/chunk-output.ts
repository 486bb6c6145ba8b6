import { WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { waitForDrain, type ByteSink } from '../io/byte-sink.ts';

/** Chunks a recycling output keeps in circulation at most (one filling, the rest being written). */
const RECYCLED_CHUNKS = 4;

/**
 * The encoder's output: batches small writes into large chunks for a sink, waits for the
 * sink to drain, and can also *reuse* its chunks. A chunk is reused once
 * the sink is done with it: a Writable's write callback has fired, or a function sink's
 * promise has resolved. That is only safe when the sink does not keep chunks past that point,
 * which holds for `fs.WriteStream` (recycling is then on by default) and for sinks that write
 * or copy the bytes before resolving; a `PassThrough` or a sink that collects chunks keeps
 * them, and must not recycle. Without recycling every chunk is a new buffer, which the
 * garbage collector reclaims only every 64 MB or so: for a multi-GiB snapshot that is most
 * of the process's memory.
 */
export class ChunkOutput {
  private readonly sink: ByteSink;
  private readonly chunkSize: number;
  private readonly recycle: boolean;
  private buf: Buffer;
  private used = 0;
  /** Buffers whose write completed, ready for reuse. */
  private readonly free: Buffer[] = [];
  private allocated = 1;
  private waiter: (() => void) | undefined;
  private failure: unknown;
  /** Total bytes accepted so far. */
  written = 0;

  constructor(sink: ByteSink, chunkSize = 1 << 20, recycle: boolean = sink instanceof WriteStream) {
    this.sink = sink;
    this.chunkSize = chunkSize;
    this.recycle = recycle;
    this.buf = Buffer.allocUnsafeSlow(chunkSize);
  }

  /** Room left in the current chunk; `reserve` may hand out up to this many bytes. */
  get room(): number {
    return this.chunkSize - this.used;
  }

  /** Hands out the current chunk's free space for in-place encoding of `n` (≤ room) bytes. */
  reserve(n: number): Buffer {
    const view = this.buf.subarray(this.used, this.used + n);
    this.used += n;
    this.written += n;
    return view;
  }

  /** Appends bytes (copied), sending chunks as they fill. */
  async write(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.byteLength) {
      if (this.used === this.chunkSize) await this.flush();
      const n = Math.min(this.chunkSize - this.used, data.byteLength - at);
      this.buf.set(data.subarray(at, at + n), this.used);
      this.used += n;
      at += n;
    }
    this.written += data.byteLength;
  }

  /** Sends whatever is buffered. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const full = this.buf;
    const chunk = full.subarray(0, this.used);
    this.buf = await this.nextBuffer();
    this.used = 0;
    await this.emit(full, chunk);
  }

  private async nextBuffer(): Promise<Buffer> {
    if (!this.recycle) return Buffer.allocUnsafeSlow(this.chunkSize);
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      const reused = this.free.pop();
      if (reused !== undefined) return reused;
      if (this.allocated < RECYCLED_CHUNKS) {
        this.allocated += 1;
        return Buffer.allocUnsafeSlow(this.chunkSize);
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private giveBack(buffer: Buffer, error?: unknown): void {
    if (error) this.failure ??= error;
    else this.free.push(buffer);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  private async emit(full: Buffer, chunk: Buffer): Promise<void> {
    const sink = this.sink;
    if (typeof sink === 'function') {
      await sink(chunk);
      if (this.recycle) this.giveBack(full);
      return;
    }
    if (sink.destroyed) throw sink.errored ?? new Error('output stream was closed');
    const ok = this.recycle ? sink.write(chunk, (error) => this.giveBack(full, error ?? undefined)) : sink.write(chunk);
    if (!ok) await waitForDrain(sink);
  }
}
