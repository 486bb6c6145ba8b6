import { Transform, type TransformCallback } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options for {@link Valve}. */
export interface ValveOptions {
  /** Throttle to this many bytes per second (default: no limit). */
  readonly bytesPerSecond?: number;
  /** Hold the first byte back this long. */
  readonly delayMs?: number;
}

/**
 * A pass-through stream the fault proxy puts in each direction of a forwarded connection: it
 * can throttle (bytes per second, in slices of about 50 ms) and hold everything back until
 * released (a stalled connection forwards nothing). Destroying it ends any wait at once.
 */
export class Valve extends Transform {
  private readonly bytesPerSecond: number | undefined;
  private delayMs: number;
  private held = false;
  private waiters: Array<() => void> = [];

  constructor(options: ValveOptions = {}) {
    super();
    this.bytesPerSecond = options.bytesPerSecond;
    this.delayMs = options.delayMs ?? 0;
  }

  /** Stops forwarding: bytes wait here until {@link release}. */
  hold(): void {
    this.held = true;
  }

  /** Forwards again whatever waited. */
  release(): void {
    this.held = false;
    this.wakeAll();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pass(chunk).then(() => callback(), (err: Error) => callback(err));
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.wakeAll();
    callback(err);
  }

  private async pass(chunk: Buffer): Promise<void> {
    if (this.delayMs > 0) {
      const delay = this.delayMs;
      this.delayMs = 0;
      await sleep(delay);
    }
    let offset = 0;
    while (offset < chunk.byteLength && !this.destroyed) {
      while (this.held && !this.destroyed) await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.destroyed) return;
      const rate = this.bytesPerSecond;
      const size = rate === undefined ? chunk.byteLength - offset : Math.max(1, Math.min(chunk.byteLength - offset, Math.ceil(rate / 20)));
      this.push(chunk.subarray(offset, offset + size));
      offset += size;
      if (rate !== undefined) await sleep((size * 1000) / rate);
    }
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
