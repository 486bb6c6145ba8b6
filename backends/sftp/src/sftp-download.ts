import { Readable } from 'node:stream';
import type { SftpOps } from './sftp-session.ts';

/** Where a download starts and how many bytes it reads (undefined: up to the end of the file). */
export interface DownloadRange {
  readonly offset: number;
  readonly size: number | undefined;
}

/**
 * An open file handle read as a stream, one read request at a time, that owns the handle.
 *
 * Unlike ssh2's `createReadStream`, destroying it never leaves a request behind on the closed
 * handle: ssh2 splits a read longer than the server's limit into follow-up requests, which it
 * kept sending after the stream closed the handle. Such a request failed with a generic
 * `Failure` that the stream emitted in place of the reason it was destroyed with, and the next
 * call on the connection (a listing, a delete) sometimes got no answer at all. Here the handle
 * is closed only after the read in flight settled (the server may hand its number to the next
 * open), and a destroyed stream fails with the error it was destroyed with.
 */
export class SftpDownload extends Readable {
  private readonly ops: SftpOps;
  private readonly handle: Buffer;
  private readonly chunkSize: number;
  private position: number;
  private remaining: number;
  private inFlight: Promise<unknown> | undefined;

  constructor(ops: SftpOps, handle: Buffer, range: DownloadRange, chunkSize: number) {
    super({ highWaterMark: chunkSize });
    this.ops = ops;
    this.handle = handle;
    this.chunkSize = chunkSize;
    this.position = range.offset;
    this.remaining = range.size ?? Infinity;
  }

  override _read(): void {
    if (this.inFlight !== undefined) return;
    if (this.remaining <= 0) {
      this.push(null);
      return;
    }
    const length = Math.min(this.chunkSize, this.remaining);
    const read = this.ops.read(this.handle, length, this.position);
    this.inFlight = read;
    read.then(
      (bytes) => {
        this.inFlight = undefined;
        if (this.destroyed) return;
        if (bytes.length === 0) {
          this.push(null);
          return;
        }
        this.position += bytes.length;
        this.remaining -= bytes.length;
        this.push(bytes);
      },
      (error: unknown) => {
        this.inFlight = undefined;
        this.destroy(error as Error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // The handle is closed only once no read is left on it (the server may reuse its number).
    const settled = this.inFlight === undefined ? Promise.resolve() : this.inFlight.then(
      () => {},
      () => {},
    );
    const closed = settled.then(() => this.ops.close(this.handle));
    if (error !== null) {
      // Abandoned or failed: the consumer learns why at once, even if a stalled read never
      // settles; the handle is closed behind it.
      closed.catch(() => {});
      callback(error);
      return;
    }
    closed.then(
      () => callback(null),
      (closeError: unknown) => callback(closeError as Error),
    );
  }
}
