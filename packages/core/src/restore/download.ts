import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, UsageError } from '../ltx/errors.ts';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';
import { DownloadError } from './restore-errors.ts';
import { ltxFileLabel } from './restore-plan.ts';

export interface DownloadOptions {
  /** Stops the transfer (and any wait between attempts); the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called per chunk with the count of bytes newly received (never more than the file's listed size in total). */
  readonly onBytes?: (bytes: number) => void;
  /** Tries in all, the first included (default 4). */
  readonly attempts?: number;
  /** Wait before the first retry, doubled before each next one (default 100 ms). */
  readonly backoffMs?: number;
}

/**
 * Streams one replica file to `dest`, never holding it in memory. A failed or short
 * transfer is retried from the start after a short backoff; a file that no longer exists
 * is not (retention or compaction removed it, and waiting will not bring it back).
 */
export async function downloadLtxFile(client: ReplicaClient, info: LtxFileInfo, dest: string, options: DownloadOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 4;
  const signal = options.signal;
  let reported = 0;
  // Bytes of a retried attempt are reported only past what an earlier attempt reached,
  // so progress never goes backwards or beyond the listed size.
  const count = (received: number): void => {
    const upTo = Math.min(received, info.size);
    if (upTo > reported) {
      options.onBytes?.(upTo - reported);
      reported = upTo;
    }
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const received = await fetchOnce(client, info, dest, count, signal);
      if (received !== info.size) throw new Error(`received ${received} bytes but the replica listed ${info.size}`);
      return;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof NotFoundError) {
        throw new DownloadError(ltxFileLabel(info), attempt, error, 'it was deleted after the restore was planned (by retention or compaction?); run the restore again');
      }
      if (error instanceof UsageError || attempt >= attempts) throw new DownloadError(ltxFileLabel(info), attempt, error);
      await sleep((options.backoffMs ?? 100) * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}

async function fetchOnce(client: ReplicaClient, info: LtxFileInfo, dest: string, count: (received: number) => void, signal: AbortSignal | undefined): Promise<number> {
  const source = await client.openLtxFile(info, { signal });
  if (signal?.aborted) {
    source.destroy();
    throw signal.reason;
  }
  let received = 0;
  await pipeline(
    source,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        received += chunk.byteLength;
        count(received);
        yield chunk;
      }
    },
    // 'w' truncates what an earlier attempt left.
    createWriteStream(dest, { flags: 'w', highWaterMark: 1 << 20 }),
    signal ? { signal } : {},
  );
  return received;
}
