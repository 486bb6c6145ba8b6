import { open } from 'node:fs/promises';
import { addAbortSignal, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalWriteError } from '../io/local-write-error.ts';
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
  /** The database the download is staged for, named when writing the local copy fails. */
  readonly stagingFor?: string;
}

/** One replica object to download: how to open it, its name in errors and its listed size. */
export interface DownloadSource {
  /** Starts a transfer of the whole object, again for each attempt (`signal`: the download's, to pass to a client that can stop a transfer). */
  readonly open: (signal: AbortSignal | undefined) => Promise<Readable>;
  /** The object's name in errors: `<level>/<min>-<max>.ltx`, or its path below the replica path. */
  readonly label: string;
  /** Its listed size: a transfer of any other length failed. */
  readonly size: number;
  /** Why an object listed for the restore may be gone, and what to do (said when it is). */
  readonly goneHint: string;
}

/**
 * Streams one replica file to `dest`, never holding it in memory. A failed or short
 * transfer is retried from the start after a short backoff; a file that no longer exists
 * is not (retention or compaction removed it, and waiting will not bring it back), nor is a
 * failure to write `dest` (a full disk, no permission: a `LocalWriteError` naming it).
 */
export async function downloadLtxFile(client: ReplicaClient, info: LtxFileInfo, dest: string, options: DownloadOptions = {}): Promise<void> {
  const source: DownloadSource = {
    open: (signal) => client.openLtxFile(info, { signal }),
    label: ltxFileLabel(info),
    size: info.size,
    goneHint: 'it was deleted after the restore was planned (by retention or compaction?); run the restore again',
  };
  return downloadObject(source, dest, options);
}

/**
 * Streams one replica object to `dest` as `downloadLtxFile` does: retried from the start after a
 * failed or short transfer, not when the object is gone (`DownloadError` with `goneHint`) or
 * `dest` cannot be written (`LocalWriteError`).
 */
export async function downloadObject(object: DownloadSource, dest: string, options: DownloadOptions = {}): Promise<void> {
  const attempts = options.attempts ?? 4;
  const signal = options.signal;
  let reported = 0;
  // Bytes of a retried attempt are reported only past what an earlier attempt reached,
  // so progress never goes backwards or beyond the listed size.
  const count = (received: number): void => {
    const upTo = Math.min(received, object.size);
    if (upTo > reported) {
      options.onBytes?.(upTo - reported);
      reported = upTo;
    }
  };
  for (let attempt = 1; ; attempt++) {
    try {
      const received = await fetchOnce(object, dest, count, signal, options.stagingFor);
      if (received !== object.size) throw new Error(`received ${received} bytes but the replica listed ${object.size}`);
      return;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof LocalWriteError) throw error;
      if (error instanceof NotFoundError) throw new DownloadError(object.label, attempt, error, object.goneHint);
      if (error instanceof UsageError || attempt >= attempts) throw new DownloadError(object.label, attempt, error);
      await sleep((options.backoffMs ?? 100) * 2 ** (attempt - 1), undefined, { signal });
    }
  }
}

async function fetchOnce(
  object: DownloadSource,
  dest: string,
  count: (received: number) => void,
  signal: AbortSignal | undefined,
  stagingFor: string | undefined,
): Promise<number> {
  const source = await object.open(signal);
  if (signal?.aborted) {
    source.destroy();
    throw signal.reason;
  }
  if (signal) addAbortSignal(signal, source);
  // Failures of the local file are told apart from those of the transfer (they are not
  // retried) by where they happen: every write below is ours, every read the transfer's.
  const local = (error: unknown) =>
    new LocalWriteError(dest, `write the downloaded copy of ${object.label}${stagingFor ? ` (staged for the restore of ${stagingFor})` : ''}`, error);
  let fh;
  try {
    // 'w' truncates what an earlier attempt left.
    fh = await open(dest, 'w');
  } catch (error) {
    source.destroy();
    throw local(error);
  }
  let received = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      received += chunk.byteLength;
      count(received);
      try {
        for (let done = 0; done < chunk.byteLength; ) done += (await fh.write(chunk, done, chunk.byteLength - done)).bytesWritten;
      } catch (error) {
        throw local(error);
      }
    }
  } catch (error) {
    source.destroy();
    await fh.close().catch(() => {});
    throw error;
  }
  try {
    await fh.close();
  } catch (error) {
    throw local(error);
  }
  return received;
}
