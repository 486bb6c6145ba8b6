import { LitestreamError } from '../ltx/errors.ts';
import { formatTimeout } from './storage-timeouts.ts';

/** A storage call made no progress for the replica's request timeout. */
export class StorageTimeoutError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_STORAGE_TIMEOUT';
  readonly code = 'RequestTimeout';
  /** The request timeout that passed, ms. */
  readonly timeout: number;
  /**
   * @param lastFailure the last failed attempt the SDK retried meanwhile (connection refused,
   * reset…): named in the message and kept as the cause, since it says why nothing moved.
   */
  constructor(what: string, timeout: number, lastFailure?: unknown) {
    const why = lastFailure === undefined ? 'the store is stalled or unreachable' : `last error: ${lastFailure instanceof Error ? lastFailure.message : String(lastFailure)}`;
    super(`${what} made no progress for ${formatTimeout(timeout)} (request-timeout): ${why}`, lastFailure === undefined ? undefined : { cause: lastFailure });
    this.timeout = timeout;
  }
}

/** What a backend receives with every storage call. */
export interface StorageCallContext {
  /**
   * Aborts when the caller gives up (its own signal), or when the call made no progress for the
   * request timeout. Give it to the SDK so the request itself stops; the call already rejected.
   */
  readonly signal: AbortSignal;
  /**
   * Tells the call that bytes moved where `ReplicaClient` cannot see them (inside an SDK that
   * buffers, for example a multipart upload's parts): the inactivity clock starts again.
   */
  readonly progress: () => void;
  /**
   * Tells the call that one attempt failed and the SDK retries it (a refused connection, a
   * reset): if the call then times out, the error names this as the reason.
   */
  readonly failed: (error: unknown) => void;
}

/**
 * One storage call in flight: its abort signal (the caller's, and the request timeout's) and
 * its inactivity clock. The clock runs only while the call waits on the store: it is paused
 * while a listing's consumer handles an entry or while an upload waits for its producer, and a
 * download whose consumer has not taken what arrived is not stalled (see `waitingOnConsumer`).
 */
export class StorageCall implements StorageCallContext {
  readonly signal: AbortSignal;
  readonly progress: () => void;
  readonly failed: (error: unknown) => void;
  /** True when, at expiry, the bytes are waiting on our consumer rather than on the store. */
  waitingOnConsumer: (() => boolean) | undefined;
  private readonly controller = new AbortController();
  private readonly what: string;
  private readonly timeout: number;
  private last = 0;
  private paused = false;
  private finished = false;
  private timer: NodeJS.Timeout | undefined;
  private detach: (() => void) | undefined;
  private lastFailure: unknown;

  /**
   * @param what the call, for the timeout's message (`s3 list of level 0`).
   * @param timeout request timeout, ms; 0 disables the clock.
   * @param outer the caller's signal, if any.
   */
  constructor(what: string, timeout: number, outer: AbortSignal | undefined) {
    this.what = what;
    this.timeout = timeout;
    this.signal = this.controller.signal;
    this.progress = () => {
      this.last = performance.now();
    };
    this.failed = (error) => {
      this.lastFailure = error;
    };
    if (outer?.aborted) this.controller.abort(outer.reason);
    else if (outer) {
      const onAbort = () => this.controller.abort(outer.reason);
      outer.addEventListener('abort', onAbort, { once: true });
      this.detach = () => outer.removeEventListener('abort', onAbort);
    }
    this.resume();
  }

  /** Stops the clock: the call is waiting on our side (a consumer or a producer), not on the store. */
  pause(): void {
    this.paused = true;
  }

  /** Starts the clock again from now. */
  resume(): void {
    this.paused = false;
    this.progress();
    this.arm(this.timeout);
  }

  /**
   * Settles with `task`, or rejects as soon as the call's signal aborts (with its reason: the
   * caller's, or a `StorageTimeoutError`) even if the backend never notices. A task that
   * settles later is ignored.
   */
  run<T>(task: Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) {
      task.catch(() => {});
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      task.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          // An SDK's own abort error is an echo of ours, which says why.
          reject(signal.aborted ? signal.reason : error);
        },
      );
    });
  }

  /** Throws the abort reason once the call was aborted. */
  throwIfAborted(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** The call is over: the clock stops and the caller's signal is let go. */
  finish(): void {
    this.finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.detach?.();
    this.detach = undefined;
  }

  private arm(delay: number): void {
    if (this.timeout <= 0 || this.finished || this.signal.aborted || this.timer) return;
    this.timer = setTimeout(() => this.expire(), delay);
    // The call's own I/O keeps the process alive; an abandoned stream's clock must not.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = undefined;
    if (this.finished || this.paused || this.signal.aborted) return;
    const idle = performance.now() - this.last;
    if (idle < this.timeout) return this.arm(this.timeout - idle);
    if (this.waitingOnConsumer?.()) {
      this.progress();
      return this.arm(this.timeout);
    }
    this.controller.abort(new StorageTimeoutError(this.what, this.timeout, this.lastFailure));
  }
}
