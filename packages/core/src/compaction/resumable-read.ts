import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LitestreamError, NotFoundError, UsageError } from '../ltx/errors.ts';
import { formatLtxFilename } from '../ltx/txid.ts';
import type { LtxFileRef, ReplicaClient } from '../replica/replica-client.ts';

/** Options for {@link readLtxResumably}. */
export interface ResumableReadOptions {
  /** Reads in all, the first included (default 4). */
  readonly attempts?: number;
  /** Wait before the first retry, doubled before each next one (default 100 ms). */
  readonly backoffMs?: number;
  /** Stops retrying: the read then fails with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Reads a stored LTX file from start to end, opened only when first read and closed when
 * reading stops early. A read that breaks midway — a connection reset, an HTTP body cut short,
 * or a stream that ends before the listed size — resumes from the byte it reached with a
 * ranged read, after a short backoff: a storage SDK retries failed requests, but not a body
 * that breaks after the answer began, and one such break must not fail a compaction of
 * hundreds of files. The bytes are still verified by whoever decodes them. A file that is gone
 * (`NotFoundError`) is not retried; after `attempts` reads the error names the file.
 */
export async function* readLtxResumably(client: ReplicaClient, ref: LtxFileRef & { readonly size?: number }, options: ResumableReadOptions = {}): AsyncGenerator<Uint8Array> {
  const attempts = options.attempts ?? 4;
  let offset = 0;
  for (let attempt = 1; ; attempt++) {
    let stream: Readable | undefined;
    try {
      stream = await client.openLtxFile(ref, { ...(offset > 0 ? { offset } : {}), signal: options.signal });
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        offset += chunk.byteLength;
        yield chunk;
      }
      if (ref.size === undefined || offset >= ref.size) return;
      throw new Error(`the read ended at byte ${offset} of ${ref.size}`);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (error instanceof NotFoundError || error instanceof UsageError) throw error;
      if (attempt >= attempts) {
        throw new LitestreamError(`read failed after ${attempt} attempts: ${(error as Error).message}`, {
          file: `level ${ref.level} ${formatLtxFilename(ref.minTXID, ref.maxTXID)}`,
          cause: error,
        });
      }
    } finally {
      stream?.destroy();
    }
    await sleep((options.backoffMs ?? 100) * 2 ** (attempt - 1), undefined, options.signal ? { signal: options.signal } : {});
  }
}
