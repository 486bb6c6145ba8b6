import type { Readable } from 'node:stream';
import type { StorageCall } from './storage-call.ts';

/**
 * The data paths of a storage call, watched by its `StorageCall`: every chunk or entry that
 * moves counts as progress, time spent on our side of the call does not, and an aborted call
 * stops them (so even a backend that ignores the signal stops reading or writing).
 */

/**
 * Entries of a listing. The clock runs while the backend produces the next entry and is paused
 * while the consumer handles one; a stall or an abort rejects the pending `next()` at once.
 */
export async function* guardListing<T>(source: AsyncIterable<T>, call: StorageCall): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      // An abandoned listing asks the backend for nothing more.
      call.throwIfAborted();
      call.resume();
      const step = await call.run(it.next());
      call.pause();
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    call.finish();
    // Not awaited: after an abort the backend may still be stuck in the pending next().
    if (!done) void Promise.resolve(it.return?.()).catch(() => {});
  }
}

/**
 * The bytes of an upload, as the backend pulls them. The clock is paused while the producer
 * makes the next chunk (an encoder, a compaction reading other files) and runs while the
 * backend sends: each pull is progress. After an abort the pending or next pull throws the
 * reason, so the backend fails the write the way it fails any broken source: nothing stored.
 */
export async function* guardSource(source: AsyncIterable<Uint8Array>, call: StorageCall): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      call.pause();
      const step = await call.run(it.next());
      call.resume();
      if (step.done) {
        done = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // Not awaited after an abort: the producer may still be stuck in the pending next().
    if (!done) {
      if (call.signal.aborted) void Promise.resolve(it.return?.()).catch(() => {});
      else await it.return?.();
    }
  }
}

/**
 * A download stream that counts each chunk as progress. The stream itself is returned (no
 * extra stream in between, so nothing that arrived before a failure is lost): each chunk its
 * source pushes restarts the clock. A stall is only a stall when our consumer has taken
 * everything that arrived (a slow consumer is not the store's fault). An abort destroys the
 * stream with the reason; the call ends with the stream.
 */
export function guardReadable(source: Readable, call: StorageCall): Readable {
  // Every Readable delivers its data through push(); counting there changes neither its mode
  // nor its buffering.
  const push = source.push.bind(source);
  source.push = (chunk: unknown, encoding?: BufferEncoding) => {
    // The end arrived: whatever the consumer does with the rest, the store has nothing left to send.
    if (chunk === null) call.pause();
    else call.progress();
    return push(chunk, encoding);
  };
  call.waitingOnConsumer = () => source.readableLength > 0;
  // An SDK given the call's signal destroys the stream with its own AbortError: the reason the
  // call was abandoned (the caller's, or the timeout) is what the consumer must see.
  const destroy = source.destroy.bind(source);
  source.destroy = (error?: Error) => destroy(call.signal.aborted && call.signal.reason instanceof Error ? call.signal.reason : error);
  const onAbort = () => source.destroy(call.signal.reason instanceof Error ? call.signal.reason : new Error(String(call.signal.reason)));
  if (call.signal.aborted) onAbort();
  else call.signal.addEventListener('abort', onAbort, { once: true });
  source.once('close', () => {
    call.signal.removeEventListener('abort', onAbort);
    call.finish();
  });
  return source;
}
