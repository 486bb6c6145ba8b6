import { open, readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { errorCode } from '../io/durable.ts';
import { NotFoundError } from '../ltx/errors.ts';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';
import { DownloadWindow } from './download-window.ts';
import { DownloadError } from './restore-errors.ts';
import { ltxFileLabel } from './restore-plan.ts';

/** Hands out the bytes of a plan's files, in plan order, to be applied one after the other. */
export interface PlanReader {
  /** The bytes of file `index`. */
  open(index: number): Promise<AsyncIterable<Uint8Array>>;
  /** File `index` was applied. */
  done(index: number): Promise<void>;
  /** Stops whatever is in flight (after a failure) and waits until nothing writes any more. */
  abort(): Promise<void>;
}

/** Where a staged reader puts the files it downloads ahead, and what it tells on the way. */
export interface PlanReaderOptions {
  /** An existing directory for downloaded files (the restore's work directory); the caller removes it. */
  readonly stagingDir: string;
  /** The database being restored, named by errors about writing the staged files. */
  readonly output: string;
  readonly parallelism: number;
  readonly onBytes: (bytes: number) => void;
  /** Stops the downloads in flight when it aborts. */
  readonly signal?: AbortSignal | undefined;
}

/** Makes the reader a client calls for: direct reads when it declares `localReads`, staging otherwise. */
export function createPlanReader(client: ReplicaClient, files: readonly LtxFileInfo[], options: PlanReaderOptions): PlanReader {
  if (client.capabilities.localReads === true) return new DirectReader(client, files, options.onBytes);
  const window = new DownloadWindow(client, files, options.stagingDir, options.parallelism, { onBytes: options.onBytes, stagingFor: options.output }, options.signal);
  return new StagedReader(window, files);
}

/** Files up to this size are read whole, a few ahead of the one being applied. */
const SMALL_FILE_BYTES = 256 * 1024;
/** How many files ahead small files are read, and the most bytes read ahead at once. */
const READ_AHEAD_FILES = 16;
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Reads each file in place from a replica that declared `localReads`: no copy, no staging
 * directory. Large files are read in 1 MiB positioned reads into a few reused buffers, one
 * read ahead; small files are read whole, several ahead of the one being applied, so a
 * restore through a thousand small files does not wait on each open.
 */
class DirectReader implements PlanReader {
  private readonly client: ReplicaClient;
  private readonly files: readonly LtxFileInfo[];
  private readonly onBytes: (bytes: number) => void;
  private readonly ahead = new Map<number, Promise<Outcome<Buffer>>>();

  constructor(client: ReplicaClient, files: readonly LtxFileInfo[], onBytes: (bytes: number) => void) {
    this.client = client;
    this.files = files;
    this.onBytes = onBytes;
  }

  async open(index: number): Promise<AsyncIterable<Uint8Array>> {
    const info = this.files[index]!;
    const path = this.client.localLtxPath(info);
    this.readAhead(index);
    if (path === undefined) return counted(await this.openStream(info), info, this.onBytes);
    const whole = this.ahead.get(index);
    if (whole === undefined) return fileChunks(path, info, this.onBytes);
    const outcome = await whole;
    if (!outcome.ok) throw outcome.error;
    this.onBytes(Math.min(info.size, outcome.value.byteLength));
    return once(outcome.value);
  }

  async done(index: number): Promise<void> {
    this.ahead.delete(index);
    this.readAhead(index + 1);
  }

  async abort(): Promise<void> {
    await Promise.all(this.ahead.values());
    this.ahead.clear();
  }

  /** Starts reading the small files from `index` on, within the read-ahead limits. */
  private readAhead(index: number): void {
    let bytes = 0;
    for (let i = index; i < this.files.length && i < index + READ_AHEAD_FILES; i++) {
      const info = this.files[i]!;
      if (info.size > SMALL_FILE_BYTES) break;
      bytes += info.size;
      if (bytes > READ_AHEAD_BYTES) break;
      if (this.ahead.has(i)) continue;
      const path = this.client.localLtxPath(info);
      if (path === undefined) break;
      this.ahead.set(
        i,
        readFile(path).then(
          (value): Outcome<Buffer> => ({ ok: true, value }),
          (error: unknown): Outcome<Buffer> => ({ ok: false, error: readError(info, error) }),
        ),
      );
    }
  }

  private async openStream(info: LtxFileInfo): Promise<Readable> {
    try {
      return await this.client.openLtxFile(info);
    } catch (error) {
      throw readError(info, error);
    }
  }
}

type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

function readError(info: LtxFileInfo, error: unknown): unknown {
  if (error instanceof NotFoundError || errorCode(error) === 'ENOENT') {
    const cause = error instanceof NotFoundError ? error : new NotFoundError(`level ${info.level} LTX file`, { file: ltxFileLabel(info), cause: error });
    return new DownloadError(ltxFileLabel(info), 1, cause, 'it was deleted after the restore was planned (by retention or compaction?); run the restore again');
  }
  return error;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Reports the bytes of a file as they are read, never past its listed size. */
async function* counted(source: AsyncIterable<Uint8Array>, info: LtxFileInfo, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let reported = 0;
  for await (const chunk of source) {
    const next = Math.min(info.size, reported + chunk.byteLength);
    if (next > reported) onBytes(next - reported);
    reported = next;
    yield chunk;
  }
}

const CHUNK_BYTES = 1 << 20;
const RING = 3;

/**
 * A local file in 1 MiB chunks, read with positioned reads into a ring of three reused
 * buffers with one read ahead. A chunk stays intact until two more have been taken (the
 * decoder copies what it keeps before then), so a multi-GiB file costs 3 MiB, not a new
 * buffer per chunk for the garbage collector.
 */
async function* fileChunks(path: string, info: LtxFileInfo, onBytes: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (error) {
    throw readError(info, error);
  }
  const ring = Array.from({ length: RING }, () => Buffer.allocUnsafeSlow(CHUNK_BYTES));
  let position = 0;
  let taken = 0;
  let reported = 0;
  let next: Promise<{ bytesRead: number }> | undefined = fh.read(ring[0]!, 0, CHUNK_BYTES, 0);
  try {
    for (;;) {
      const { bytesRead } = await next;
      next = undefined;
      if (bytesRead === 0) return;
      const chunk = ring[taken % RING]!.subarray(0, bytesRead);
      position += bytesRead;
      taken += 1;
      next = fh.read(ring[taken % RING]!, 0, CHUNK_BYTES, position);
      const upTo = Math.min(info.size, position);
      if (upTo > reported) onBytes(upTo - reported);
      reported = upTo;
      yield chunk;
    }
  } finally {
    await next?.catch(() => {});
    await fh.close();
  }
}

/** Downloads ahead into the restore's work directory, beside the output (remote stores). */
class StagedReader implements PlanReader {
  private readonly window: DownloadWindow;
  private readonly files: readonly LtxFileInfo[];

  constructor(window: DownloadWindow, files: readonly LtxFileInfo[]) {
    this.window = window;
    this.files = files;
  }

  async open(index: number): Promise<AsyncIterable<Uint8Array>> {
    const path = await this.window.take(index);
    // Progress was counted as the file arrived; reading the staged copy adds none.
    return fileChunks(path, this.files[index]!, () => {});
  }

  done(index: number): Promise<void> {
    return this.window.release(index);
  }

  abort(): Promise<void> {
    return this.window.abort();
  }
}
