import { AsyncLocalStorage } from 'node:async_hooks';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { StorageCallContext } from '@litestream-ts/core';

/**
 * The storage call each SDK request belongs to. Requests are made deep inside the SDK and
 * lib-storage (a multipart upload's parts, its retries), so instead of threading a signal
 * through every `send`, the replica client runs each call in an async context and the request
 * handler reads it: every request of a call is aborted with it and reports its bytes as they go.
 */
const current = new AsyncLocalStorage<StorageCallContext>();

/** Runs `task` (and every request it makes, however deep) as part of `call`. */
export function inCall<T>(call: StorageCallContext, task: () => Promise<T>): Promise<T> {
  return current.run(call, task);
}

/** An async iterable whose every step runs as part of `call` (a generator resumes in its caller's context otherwise). */
export function iterateInCall<T>(call: StorageCallContext, iterable: AsyncIterable<T>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const it = iterable[Symbol.asyncIterator]();
      return {
        next: () => current.run(call, () => it.next()),
        return: async (value?: unknown) => (it.return ? current.run(call, () => it.return!(value)) : { done: true, value: value as T }),
      };
    },
  };
}

/** Request bodies at least this large are sent in slices, each one reported as progress. */
const SLICE = 64 << 10;

interface HandlerLike {
  handle(request: { method?: string; query?: Record<string, unknown>; body?: unknown }, options?: { abortSignal?: AbortSignal; [key: string]: unknown }): Promise<unknown>;
}

/**
 * Makes the client's request handler aware of storage calls: a request made within one gets the
 * call's abort signal (so `stop()` and the request timeout end it, and the SDK does not retry it),
 * and a large body is written in slices that count as progress as the socket takes them. The SDK
 * itself sees nothing else: the same request, headers and bytes. Requests made outside any
 * call (none are, today) go through untouched.
 */
export function instrumentRequestHandler(client: S3Client): void {
  const handler = client.config.requestHandler as unknown as HandlerLike;
  const handle = handler.handle.bind(handler);
  handler.handle = (request, options = {}) => {
    const call = current.getStore();
    // Aborting a multipart upload is the clean-up of an abandoned call: it is let run (bounded
    // by the socket timeout) so no parts are left behind.
    if (call === undefined || (request.method === 'DELETE' && request.query?.uploadId !== undefined)) return handle(request, options);
    // A new attempt is no progress (the SDK retries refused connections within one call): only
    // bytes that move are. A failed attempt is noted, so a timeout can say what kept failing.
    const abortSignal = options.abortSignal ? AbortSignal.any([options.abortSignal, call.signal]) : call.signal;
    // Each attempt gets its own copy: the retry middleware sends the original again.
    const body = request.body;
    const sliced = body instanceof Uint8Array && body.byteLength >= SLICE ? { ...request, body: Readable.from(slices(body, call), { objectMode: false, highWaterMark: SLICE }) } : request;
    return handle(sliced, { ...options, abortSignal }).then(
      (response) => {
        // An answer is progress too (a small request has no body to count).
        call.progress();
        return response;
      },
      (error: unknown) => {
        if (!call.signal.aborted) call.failed(error);
        throw error;
      },
    );
  };
}

function* slices(body: Uint8Array, call: StorageCallContext): Generator<Buffer> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 0; at < bytes.byteLength; at += SLICE) {
    call.progress();
    yield bytes.subarray(at, at + SLICE);
  }
}
