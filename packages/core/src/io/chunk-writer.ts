import type { Writable } from 'node:stream';

/** Where encoded bytes go: a Node writable stream or a function that takes each chunk. */
export type ByteSink = Writable | ((chunk: Buffer) => void | Promise<void>);

/**
 * Batches many small writes into large chunks before handing them to a sink, and waits
 * for the sink to drain, so memory stays bounded by the chunk size whatever the file size.
 */
export class ChunkWriter {
  private buf: Buffer;
  private used = 0;
  /** Total bytes accepted so far. */
  written = 0;

  private readonly sink: ByteSink;
  private readonly chunkSize: number;

  constructor(sink: ByteSink, chunkSize = 1 << 20) {
    this.sink = sink;
    this.chunkSize = chunkSize;
    this.buf = Buffer.allocUnsafe(chunkSize);
  }

  /** Appends bytes; flushes when the chunk is full. */
  async write(data: Uint8Array): Promise<void> {
    this.written += data.byteLength;
    if (data.byteLength > this.chunkSize - this.used) {
      await this.flush();
      if (data.byteLength >= this.chunkSize) {
        await this.emit(Buffer.from(data));
        return;
      }
    }
    this.buf.set(data, this.used);
    this.used += data.byteLength;
  }

  /** Room left in the current chunk; `writeInto` may fill up to this many bytes. */
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

  /** Sends whatever is buffered. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const out = this.buf.subarray(0, this.used);
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.used = 0;
    await this.emit(out);
  }

  private async emit(chunk: Buffer): Promise<void> {
    const sink = this.sink;
    if (typeof sink === 'function') {
      await sink(chunk);
      return;
    }
    if (sink.destroyed) throw sink.errored ?? new Error('output stream was closed');
    if (!sink.write(chunk)) await waitForDrain(sink);
  }
}

/** Resolves on 'drain', rejects on 'error' or an early 'close', and removes its listeners either way. */
function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(stream.errored ?? new Error('output stream closed before all bytes were written'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
