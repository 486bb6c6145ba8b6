/**
 * Hands chunks from a producer to a consumer one at a time: the producer calls `write`, the
 * consumer iterates. `write` resolves once the consumer has taken the chunk *and asked for
 * the next one* (or stopped), which is when a consumer that writes or copies each chunk
 * before pulling more is done with it — so the producer may reuse the buffer. It is also the
 * back-pressure: at most one chunk waits.
 *
 * The producer ends with `end()` or `fail(error)`; a consumer that stops early makes every
 * later `write` reject, so the producer stops too.
 */
export class ChunkChannel implements AsyncIterable<Uint8Array> {
  private pending: Buffer | undefined;
  private ended = false;
  private failure: unknown;
  private stopped: Error | undefined;
  private iterating = false;
  /** Resolves the consumer waiting for a chunk. */
  private wakeConsumer: (() => void) | undefined;
  /** Settles the producer's `write` for the chunk handed out last. */
  private released: { resolve: () => void; reject: (error: unknown) => void } | undefined;

  /** Offers a chunk; resolves when the consumer is done with it. */
  write(chunk: Buffer): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.ended || this.failure !== undefined) return Promise.reject(new Error('chunk channel already ended'));
    return new Promise<void>((resolve, reject) => {
      this.pending = chunk;
      this.released = { resolve, reject };
      this.wakeConsumer?.();
    });
  }

  /** No more chunks. */
  end(): void {
    this.ended = true;
    this.wakeConsumer?.();
  }

  /** The producer failed: the consumer's iteration throws `error`. */
  fail(error: unknown): void {
    this.failure = error ?? new Error('producer failed');
    this.wakeConsumer?.();
  }

  /**
   * The consumer failed without finishing its iteration (a store that rejected the write
   * early): the pending and every later `write` reject with `error`.
   */
  abort(error: unknown): void {
    this.stopped ??= error instanceof Error ? error : new Error(String(error));
    const last = this.released;
    this.released = undefined;
    this.pending = undefined;
    last?.reject(this.stopped);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.iterating) throw new Error('a chunk channel can be read only once');
    this.iterating = true;
    try {
      for (;;) {
        while (this.pending === undefined && !this.ended && this.failure === undefined) {
          await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
          this.wakeConsumer = undefined;
        }
        if (this.failure !== undefined) throw this.failure;
        const chunk = this.pending;
        if (chunk === undefined) return;
        this.pending = undefined;
        yield chunk;
        // Asked for the next chunk: the consumer is done with this one.
        this.releaseLast();
      }
    } finally {
      this.stopped ??= new Error('the consumer stopped reading');
      const last = this.released;
      this.released = undefined;
      last?.reject(this.stopped);
    }
  }

  private releaseLast(): void {
    const last = this.released;
    this.released = undefined;
    last?.resolve();
  }
}
