import { Readable, addAbortSignal } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, Storage } from '@google-cloud/storage';
import {
  NotFoundError,
  PreconditionFailedError,
  ReplicaClient,
  ltxFilename,
  type ListLtxOptions,
  type LtxFileInfo,
  type LtxFileRef,
  type RawObjectInfo,
  type ReplicaCapabilities,
  type StorageCallContext,
  type StoredObject,
  type WriteCondition,
  type WriteLtxOptions,
  type WriteLtxResult,
} from '@litestream-ts/core';
import { isInvalidRange, isObjectNotFound, isPreconditionFailure, wrapGcsError } from './gcs-errors.ts';
import { GcsLayout } from './gcs-layout.ts';
import { listLevel, listObjects } from './gcs-listing.ts';
import { resolveGcsSettings, type GcsReplicaClientOptions, type GcsSettings } from './gcs-settings.ts';
import { createStorage } from './gcs-storage.ts';
import { TIMESTAMP_METADATA_KEY, formatLtxTimestamp, peekLtxTimestamp } from './ltx-timestamp.ts';

const DEFAULT_DELETE_CONCURRENCY = 16;
// A generation is a positive int64 in decimal; any other etag was never issued by this backend.
const GENERATION = /^[1-9]\d{0,18}$/;

/**
 * Replica in a Google Cloud Storage bucket, laid out as Litestream v0.5 does:
 * `<path>/ltx/<level>/<minTXID>-<maxTXID>.ltx` with the LTX timestamp as `litestream-timestamp`
 * metadata. Small objects (leases) at `<path>/<name>` use the object generation as etag and
 * generation preconditions (`ifGenerationMatch`, 0 = create only) for conditional writes.
 */
export class GcsReplicaClient extends ReplicaClient {
  readonly type = 'gs';
  readonly capabilities: ReplicaCapabilities = Object.freeze({ conditionalWrite: true, metadataTimestamps: true, rangedReads: 'native', rawObjectReads: true });
  readonly settings: GcsSettings;
  readonly layout: GcsLayout;
  /** The SDK client, for callers that need more than the contract. */
  readonly storage: Storage;
  private readonly bucket: Bucket;
  private readonly deleteConcurrency: number;

  constructor(options: GcsReplicaClientOptions) {
    super(options);
    this.settings = resolveGcsSettings(options);
    this.layout = new GcsLayout(this.settings.path);
    this.storage = createStorage(this.settings, options, this.timeouts);
    this.bucket = this.storage.bucket(this.settings.bucket);
    this.deleteConcurrency = Math.max(1, options.deleteConcurrency ?? DEFAULT_DELETE_CONCURRENCY);
  }

  /** `gs://bucket/path` (and the endpoint when custom), for logs. */
  describe(): string {
    return `gs://${this.settings.bucket}/${this.settings.path}${this.settings.endpoint ? ` (endpoint ${this.settings.endpoint})` : ''}`;
  }

  protected async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    try {
      yield* listLevel(this.bucket, this.layout, level, options);
    } catch (error) {
      throw this.wrap(error, 'list', this.layout.levelPrefix(level));
    }
  }

  // Calls whose SDK methods take no signal are abandoned by the base class (and bounded by the
  // SDK's request timeout); streams are destroyed with their call.
  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    const key = this.layout.ltxKey(ref);
    return this.openKey(key, range, (cause) => new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: key, cause }));
  }

  protected override async *_listRawObjects(prefix: string): AsyncIterable<RawObjectInfo> {
    const root = this.layout.root;
    try {
      for await (const object of listObjects(this.bucket, { prefix: root + prefix })) {
        if (object.name === undefined || !object.name.startsWith(root)) continue;
        const modified = new Date(object.updated ?? object.timeCreated ?? Number.NaN);
        yield { path: object.name.slice(root.length), size: Number(object.size ?? 0), modifiedAt: Number.isFinite(modified.getTime()) ? modified : new Date(0) };
      }
    } catch (error) {
      throw this.wrap(error, 'list', root + prefix);
    }
  }

  protected override _openRawObject(path: string, call: StorageCallContext): Promise<Readable> {
    const key = this.layout.root + path;
    return this.openKey(key, { offset: 0, size: undefined, signal: call.signal }, (cause) => new NotFoundError(`object ${path}`, { file: key, cause }));
  }

  /** A stream of an object's bytes (or a range); a missing object rejects with `missing(cause)`. */
  private async openKey(key: string, range: { offset: number; size: number | undefined; signal: AbortSignal }, missing: (cause: unknown) => NotFoundError): Promise<Readable> {
    const file = this.bucket.file(key);
    if (range.size === 0) {
      // No bytes wanted, but a missing file must still be reported as missing.
      await file.getMetadata().catch((error: unknown) => {
        throw isObjectNotFound(error) ? missing(error) : this.wrap(error, 'get metadata', key);
      });
      return Readable.from([], { objectMode: false });
    }
    const ranged = range.offset > 0 || range.size !== undefined;
    const source = file.createReadStream({
      ...(ranged ? { start: range.offset, validation: false } : {}),
      ...(range.size === undefined ? {} : { end: range.offset + range.size - 1 }),
    });
    addAbortSignal(range.signal, source);
    // The SDK's stream is lazy: pull the first chunk so a missing object rejects here, not mid-read.
    const iterator = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let first: IteratorResult<Buffer>;
    try {
      first = await iterator.next();
    } catch (error) {
      source.destroy();
      if (isObjectNotFound(error)) throw missing(error);
      // 416: the offset is at or past the end of an object that exists.
      if (isInvalidRange(error)) return Readable.from([], { objectMode: false });
      throw this.wrap(error, 'download', key);
    }
    const wrap = (error: unknown): Error => this.wrap(error, 'download', key);
    return Readable.from(
      (async function* () {
        if (first.done) return;
        yield first.value;
        try {
          for (;;) {
            const next = await iterator.next();
            if (next.done) return;
            yield next.value;
          }
        } catch (error) {
          throw wrap(error);
        }
      })(),
      { objectMode: false },
    );
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    const key = this.layout.ltxKey(ref);
    let timestamp = options.timestamp;
    let source = data;
    if (timestamp === undefined) ({ timestamp, data: source } = await peekLtxTimestamp(data));
    let size = 0;
    // A resumable upload: the SDK streams the body and the object appears only when it is complete.
    const upload = this.bucket.file(key).createWriteStream({
      resumable: true,
      contentType: 'application/octet-stream',
      metadata: timestamp === undefined ? {} : { metadata: { [TIMESTAMP_METADATA_KEY]: formatLtxTimestamp(timestamp) } },
    });
    // Bytes the SDK has sent: progress beyond the chunks it pulled into its buffer.
    upload.on('progress', () => options.progress());
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            size += chunk.byteLength;
            yield chunk;
          }
        },
        upload,
        // An abandoned call destroys the upload, which cancels the resumable session's request.
        { signal: options.signal },
      );
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw this.wrap(error, 'upload', key);
    }
    return { size, createdAt: timestamp ?? new Date() };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[]): Promise<void> {
    await this.deleteKeys(refs.map((ref) => this.layout.ltxKey(ref)));
  }

  protected async _deleteAll(): Promise<void> {
    const keys: string[] = [];
    try {
      if (this.layout.root !== '') {
        // The path belongs to the replica: everything under it goes, as in Litestream.
        for await (const object of listObjects(this.bucket, { prefix: this.layout.root })) if (object.name) keys.push(object.name);
      } else {
        // At the bucket root, only what a replica writes: the ltx/ tree and its small objects.
        for await (const object of listObjects(this.bucket, { prefix: this.layout.ltxRoot })) if (object.name) keys.push(object.name);
        for await (const object of listObjects(this.bucket, { prefix: '', delimiter: '/' })) if (object.name && this.layout.isObjectKey(object.name)) keys.push(object.name);
      }
    } catch (error) {
      throw this.wrap(error, 'list', this.layout.root || '(bucket root)');
    }
    await this.deleteKeys(keys);
  }

  protected override async _readObject(name: string): Promise<StoredObject | undefined> {
    const key = this.layout.objectKey(name);
    // Metadata first, then the bytes of exactly that generation: the pair stays consistent even
    // if a writer replaces the object in between (then the read is simply tried again).
    for (let attempt = 0; ; attempt++) {
      let generation: string;
      try {
        const [metadata] = await this.bucket.file(key).getMetadata();
        generation = String(metadata.generation);
      } catch (error) {
        if (isObjectNotFound(error)) return undefined;
        throw this.wrap(error, 'get metadata', key);
      }
      try {
        const [data] = await this.bucket.file(key, { generation }).download();
        return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), etag: generation };
      } catch (error) {
        if (!isObjectNotFound(error) || attempt >= 4) throw this.wrap(error, 'download', key);
      }
    }
  }

  protected override async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined): Promise<{ etag: string }> {
    const key = this.layout.objectKey(name);
    if (condition && 'ifMatch' in condition && !GENERATION.test(condition.ifMatch)) throw new PreconditionFailedError(key, condition);
    const ifGenerationMatch = condition === undefined ? undefined : 'ifNoneMatch' in condition ? 0 : Number(condition.ifMatch);
    const file = this.bucket.file(key);
    try {
      await file.save(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
        resumable: false,
        contentType: 'application/json',
        ...(ifGenerationMatch === undefined ? {} : { preconditionOpts: { ifGenerationMatch } }),
      });
    } catch (error) {
      if (condition && (isPreconditionFailure(error) || isObjectNotFound(error))) throw new PreconditionFailedError(key, condition);
      throw this.wrap(error, 'upload', key);
    }
    const generation = file.metadata.generation;
    if (generation === undefined || generation === null || generation === '') throw this.wrap(new Error('the upload response had no generation'), 'upload', key);
    return { etag: String(generation) };
  }

  protected override async _deleteObject(name: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const key = this.layout.objectKey(name);
    if (condition && !GENERATION.test(condition.ifMatch)) throw new PreconditionFailedError(key, condition);
    try {
      await this.bucket.file(key).delete(condition ? { ifGenerationMatch: Number(condition.ifMatch) } : {});
    } catch (error) {
      if (condition && (isPreconditionFailure(error) || isObjectNotFound(error))) throw new PreconditionFailedError(key, condition);
      if (isObjectNotFound(error)) return;
      throw this.wrap(error, 'delete', key);
    }
  }

  /** Deletes objects a few at a time; missing ones are not an error. */
  private async deleteKeys(keys: readonly string[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < keys.length) {
        const key = keys[next++]!;
        try {
          await this.bucket.file(key).delete();
        } catch (error) {
          if (!isObjectNotFound(error)) throw this.wrap(error, 'delete', key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deleteConcurrency, keys.length) }, worker));
  }

  private wrap(error: unknown, operation: string, key: string | undefined): Error {
    return wrapGcsError(error, operation, this.settings.bucket, key, this.settings.endpoint);
  }

  /** The object key (or server path) of a stored file, for messages. */
  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return this.layout.ltxKey(ref);
  }
}
