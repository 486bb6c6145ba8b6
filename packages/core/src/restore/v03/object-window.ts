import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { addAbortSignal } from 'node:stream';
import { UsageError } from '../../ltx/errors.ts';
import type { ReplicaClient } from '../../replica/replica-client.ts';
import { downloadObject, type DownloadSource } from '../download.ts';

/** One object of a v0.3 plan: its path below the replica path and its listed size. */
export interface PlannedObject {
  readonly path: string;
  readonly size: number;
}

/** Hands out the (compressed) bytes of a plan's objects in plan order. */
export interface ObjectSource {
  /** The bytes of object `index`. */
  open(index: number): Promise<AsyncIterable<Uint8Array>>;
  /** Object `index` was applied; what was kept of it may go. */
  done(index: number): Promise<void>;
  /** Stops every transfer in flight and waits for them (after a failure). */
  abort(): Promise<void>;
}

export interface ObjectSourceOptions {
  /** Objects downloaded ahead at once, from replicas not read in place (default 8). */
  readonly parallelism?: number;
  readonly signal?: AbortSignal;
  /** Bytes newly received (never more than the listed sizes in total). */
  readonly onBytes?: (bytes: number) => void;
  /** Tries per object, the first included (default 4). */
  readonly attempts?: number;
  /** Wait before the first retry, doubled before each next one (default 100 ms). */
  readonly backoffMs?: number;
}

/**
 * The objects of a v0.3 plan, read the way LTX restores read files: in place from a replica
 * that declares `localReads` (the file backend), otherwise downloaded ahead into `dir` (the
 * restore's work directory), `parallelism` at a time, each retried from the start after a short
 * backoff when its transfer fails, and handed out in plan order. v0.3 wrote a WAL segment per
 * sync, so a generation can hold thousands: downloading them one after the other would take a
 * round trip each. An object gone since the listing is not retried, nor is a failure to write
 * the local copy (a `LocalWriteError` naming it).
 */
export function createObjectSource(client: ReplicaClient, objects: readonly PlannedObject[], dir: string, options: ObjectSourceOptions = {}): ObjectSource {
  if (client.capabilities.localReads === true) return new InPlaceSource(client, objects, options);
  return new DownloadAhead(client, objects, dir, options);
}

class InPlaceSource implements ObjectSource {
  private readonly client: ReplicaClient;
  private readonly objects: readonly PlannedObject[];
  private readonly options: ObjectSourceOptions;

  constructor(client: ReplicaClient, objects: readonly PlannedObject[], options: ObjectSourceOptions) {
    this.client = client;
    this.objects = objects;
    this.options = options;
  }

  async open(index: number): Promise<AsyncIterable<Uint8Array>> {
    const stream = await this.client.openRawObject(this.objects[index]!.path);
    if (this.options.signal) addAbortSignal(this.options.signal, stream);
    return counted(stream, this.options.onBytes);
  }

  async done(): Promise<void> {}
  async abort(): Promise<void> {}
}

class DownloadAhead implements ObjectSource {
  private readonly client: ReplicaClient;
  private readonly objects: readonly PlannedObject[];
  private readonly dir: string;
  private readonly options: ObjectSourceOptions;
  private readonly parallelism: number;
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Stops transfers when the restore fails; follows the caller's signal. */
  private readonly stop = new AbortController();
  private next = 0;

  constructor(client: ReplicaClient, objects: readonly PlannedObject[], dir: string, options: ObjectSourceOptions) {
    this.client = client;
    this.objects = objects;
    this.dir = dir;
    this.options = options;
    this.parallelism = options.parallelism ?? 8;
    if (!Number.isSafeInteger(this.parallelism) || this.parallelism < 1) throw new UsageError(`parallelism must be a positive integer, got ${this.parallelism}`);
    options.signal?.addEventListener('abort', () => this.stop.abort(options.signal!.reason), { once: true });
  }

  async open(index: number): Promise<AsyncIterable<Uint8Array>> {
    this.fill(index);
    await this.inFlight.get(index);
    return createReadStream(this.localPath(index), { highWaterMark: 1024 * 1024, signal: this.stop.signal });
  }

  async done(index: number): Promise<void> {
    this.inFlight.delete(index);
    await rm(this.localPath(index), { force: true });
    this.fill(index + 1);
  }

  async abort(): Promise<void> {
    this.stop.abort(new Error('the restore stopped'));
    await Promise.allSettled(this.inFlight.values());
  }

  /** Starts the downloads of the objects from `index` on, up to `parallelism` ahead. */
  private fill(index: number): void {
    if (this.next < index) this.next = index;
    while (this.next < this.objects.length && this.next < index + this.parallelism) {
      const i = this.next++;
      const download = this.download(i);
      // Awaited by `open`; a failure of one never opened is dropped with the restore.
      download.catch(() => {});
      this.inFlight.set(i, download);
    }
  }

  private localPath(index: number): string {
    return join(this.dir, `object-${index}`);
  }

  private async download(index: number): Promise<void> {
    const object = this.objects[index]!;
    const source: DownloadSource = {
      open: (signal) => this.client.openRawObject(object.path, { signal }),
      label: object.path,
      size: object.size,
      goneHint: 'it was deleted after the restore was planned; run the restore again',
    };
    const { onBytes, attempts, backoffMs } = this.options;
    await downloadObject(source, this.localPath(index), { signal: this.stop.signal, onBytes, attempts, backoffMs });
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, onBytes: ((bytes: number) => void) | undefined): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onBytes?.(chunk.byteLength);
    yield chunk;
  }
}
