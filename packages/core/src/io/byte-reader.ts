/**
 * Pulls exact byte counts out of an async stream of chunks. Reads that fit in the
 * buffered chunk are answered without awaiting, which keeps per-page decoding cheap.
 */
export class ByteReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private done = false;
  /** The rest of a chunk `ensure` took the start of, served before the source is asked again. */
  private next: Buffer | undefined;
  /** Bytes consumed so far (the offset of the next byte). */
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Bytes available without awaiting. */
  get buffered(): number {
    return this.chunk.byteLength - this.pos;
  }

  /** Takes `n` bytes already buffered (caller checked `buffered`). Returns a view, not a copy. */
  takeSync(n: number): Buffer {
    const out = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.offset += n;
    return out;
  }

  /**
   * The bytes buffered right now, as a view (not consumed, not copied). Valid until the next
   * call that pulls a chunk; pair with `skip` to consume part of it.
   */
  peek(): Buffer {
    return this.chunk.subarray(this.pos);
  }

  /** Consumes `n` buffered bytes (caller checked `buffered >= n`). */
  skip(n: number): void {
    this.pos += n;
    this.offset += n;
  }

  /** Waits for more bytes when none are buffered; false at the end of the stream. */
  async fill(): Promise<boolean> {
    return this.buffered > 0 || (await this.pull());
  }

  /**
   * Makes at least `n` bytes available in one piece (`peek`), joining the buffered bytes with
   * just enough of the following chunks; false when the stream ends first (whatever is left
   * is then buffered). For structures split across chunks that are parsed in place.
   */
  async ensure(n: number): Promise<boolean> {
    if (this.buffered >= n) return true;
    // Nothing left of this chunk: the next one usually holds enough on its own.
    if (this.buffered === 0 && (!(await this.pull()) || this.buffered >= n)) return this.buffered >= n;
    // A copy: a source may reuse its chunk buffers once asked for the next one.
    const joined = Buffer.allocUnsafe(n);
    let have = this.chunk.copy(joined, 0, this.pos);
    while (have < n) {
      if (!(await this.pull())) {
        this.chunk = joined.subarray(0, have);
        this.pos = 0;
        return false;
      }
      const take = Math.min(n - have, this.chunk.byteLength);
      this.chunk.copy(joined, have, 0, take);
      have += take;
      if (take < this.chunk.byteLength) this.next = this.chunk.subarray(take);
    }
    this.chunk = joined;
    this.pos = 0;
    return true;
  }

  /** Takes one buffered byte (caller checked `buffered > 0`). */
  takeByteSync(): number {
    this.offset += 1;
    return this.chunk[this.pos++]!;
  }

  /**
   * Reads exactly `n` bytes, or returns null when the stream ends first, so callers can
   * name what was truncated. The result is a view into the stream's chunk when possible.
   */
  async read(n: number): Promise<Buffer | null> {
    if (this.buffered >= n) return this.takeSync(n);
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      if (this.buffered === 0 && !(await this.pull())) return null;
      const take = Math.min(need, this.buffered);
      parts.push(this.takeSync(take));
      need -= take;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** Reads one byte, or null at the end of the stream. */
  async readByte(): Promise<number | null> {
    if (this.buffered === 0 && !(await this.pull())) return null;
    const byte = this.chunk[this.pos]!;
    this.pos += 1;
    this.offset += 1;
    return byte;
  }

  /** True when the stream has no more bytes. */
  async atEnd(): Promise<boolean> {
    while (this.buffered === 0) {
      if (!(await this.pull())) return true;
    }
    return false;
  }

  /** Stops the underlying stream early (releases file handles / sockets). */
  async cancel(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.iterator.return?.();
    }
  }

  private async pull(): Promise<boolean> {
    if (this.next !== undefined) {
      this.chunk = this.next;
      this.next = undefined;
      this.pos = 0;
      return true;
    }
    while (!this.done) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      const value = next.value;
      if (value.byteLength === 0) continue;
      this.chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.pos = 0;
      return true;
    }
    return false;
  }
}
