import { Readable } from 'node:stream';

/** A pull-based web stream over an async iterable: nats.js `put` reads one chunk at a time. */
export function toWebStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/**
 * A Node stream of `[offset, offset+size)` of a whole-object web stream. The object store has
 * no ranged read, so the bytes before `offset` are skipped here, and the read is cancelled
 * (its consumer unsubscribed) as soon as `size` bytes were passed on. A read that gets no
 * chunk for `idleMs` fails instead of hanging: chunks vanish when an object is replaced or
 * deleted while it is read.
 */
export function sliceToReadable(data: ReadableStream<Uint8Array>, offset: number, size: number | undefined, idleMs: number, what: string): Readable {
  return Readable.from(slice(data, offset, size, idleMs, what), { objectMode: false });
}

async function* slice(data: ReadableStream<Uint8Array>, offset: number, size: number | undefined, idleMs: number, what: string): AsyncGenerator<Uint8Array> {
  const reader = data.getReader();
  let skip = offset;
  let left = size ?? Number.POSITIVE_INFINITY;
  let done = false;
  try {
    while (left > 0) {
      const next = await readWithin(reader, idleMs, what);
      if (next.done) {
        done = true;
        return;
      }
      let chunk = next.value;
      if (skip > 0) {
        if (chunk.byteLength <= skip) {
          skip -= chunk.byteLength;
          continue;
        }
        chunk = chunk.subarray(skip);
        skip = 0;
      }
      if (chunk.byteLength > left) chunk = chunk.subarray(0, left);
      left -= chunk.byteLength;
      if (chunk.byteLength > 0) yield chunk;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}

/** Reads a whole web stream into one buffer, failing after `idleMs` without a chunk. */
export async function readAll(data: ReadableStream<Uint8Array>, idleMs: number, what: string): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of slice(data, 0, undefined, idleMs, what)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Thrown when an object's chunks stop arriving (it was replaced or deleted while read, or the server went away). */
export class StalledReadError extends Error {}

async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, idleMs: number, what: string): ReturnType<typeof reader.read> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StalledReadError(`${what}: no data for ${idleMs} ms while reading (the object was replaced or deleted meanwhile, or the server is unreachable)`)), idleMs);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}
