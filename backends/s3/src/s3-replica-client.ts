import { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
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
import { chooseCredentials, credentialProvider, type CredentialSource } from './credentials.ts';
import { peekLtxTimestamp } from './ltx-timestamp.ts';
import { S3Bucket } from './s3-bucket.ts';
import { deleteKeys } from './s3-deletes.ts';
import { S3RequestError, isInvalidRange, isNotFound, isPreconditionFailure } from './s3-errors.ts';
import { S3KeyLayout } from './s3-key-layout.ts';
import { DEFAULT_METADATA_CONCURRENCY, listLevel } from './s3-listing.ts';
import { inCall, iterateInCall } from './s3-call-context.ts';
import { createS3Client } from './s3-sdk-client.ts';
import { resolveS3Settings, type S3ReplicaClientOptions, type S3Settings } from './s3-settings.ts';
import { uploadLtx } from './s3-upload.ts';

/**
 * Replica in an S3 bucket or an S3-compatible store, laid out as Litestream v0.5 does:
 * `<path>/<level as 4 hex digits>/<minTXID>-<maxTXID>.ltx`, each upload carrying its LTX
 * timestamp as `litestream-timestamp` metadata, and small objects (leases) at `<path>/<name>`
 * written with `If-None-Match`/`If-Match`.
 */
export class S3ReplicaClient extends ReplicaClient {
  readonly type: 's3' | 'oss';
  readonly capabilities: ReplicaCapabilities = Object.freeze({
    conditionalWrite: true,
    metadataTimestamps: true,
    rangedReads: 'native',
    rawObjectReads: true,
  });
  /** The settings in force after provider presets and defaults. */
  readonly settings: S3Settings;
  /** Which source the credentials come from (never the credentials themselves). */
  readonly credentialSource: CredentialSource;
  /** The SDK client, for callers that add middleware or inspect requests. */
  readonly s3: S3Client;
  readonly layout: S3KeyLayout;
  private readonly bucket: S3Bucket;
  private readonly metadataConcurrency: number;
  private readonly verifyDeletes: boolean;

  constructor(options: S3ReplicaClientOptions) {
    super(options);
    this.type = options.type ?? 's3';
    this.settings = resolveS3Settings(options);
    const choice = chooseCredentials(options, options.env ?? process.env);
    this.credentialSource = choice.source;
    this.s3 = createS3Client(this.settings, credentialProvider(choice, options.defaultCredentials ?? (() => fromNodeProviderChain())), options.maxAttempts, this.timeouts);
    this.layout = new S3KeyLayout(this.settings.path);
    const secrets = [choice.credentials?.secretAccessKey, choice.credentials?.accessKeyId, choice.credentials?.sessionToken, options.sseCustomerKey];
    this.bucket = new S3Bucket({
      s3: this.s3,
      name: this.settings.bucket,
      layout: this.layout,
      encryption: this.settings.encryption,
      hook: options.onOperation,
      secrets: secrets.filter((s): s is string => typeof s === 'string' && s !== ''),
    });
    this.metadataConcurrency = options.metadataConcurrency ?? DEFAULT_METADATA_CONCURRENCY;
    this.verifyDeletes = options.verifyDeletes ?? true;
    if (this.settings.skipVerify) {
      options.warn?.(`s3 replica ${this.describe()}: skip-verify is on, so TLS certificates are not checked; use it only with test servers`);
    }
  }

  /** `s3://bucket/path` (endpoint and provider in brackets), for logs. */
  describe(): string {
    const where = `${this.type}://${this.settings.bucket}/${this.settings.path}`;
    const via = this.settings.endpoint ? ` (${this.settings.provider?.name ?? 'endpoint'} ${this.settings.endpoint})` : '';
    return where + via;
  }

  // Every request is made in its storage call's context, which aborts it with the call.
  protected _listLtxFiles(level: number, options: ListLtxOptions & StorageCallContext): AsyncIterable<LtxFileInfo> {
    return iterateInCall(options, listLevel(this.bucket, level, options, this.metadataConcurrency));
  }

  protected _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    return inCall(range, () => this.openLtx(ref, range));
  }

  protected _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    return inCall(options, () => this.writeLtx(ref, data, options));
  }

  protected _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    return inCall(call, () => deleteKeys(this.bucket, refs.map((ref) => this.layout.ltxKey(ref)), this.verifyDeletes));
  }

  protected _deleteAll(call: StorageCallContext): Promise<void> {
    return inCall(call, () => this.deleteEverything());
  }

  protected override _readObject(name: string, call: StorageCallContext): Promise<StoredObject | undefined> {
    return inCall(call, () => this.readSmallObject(name));
  }

  protected override _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, call: StorageCallContext): Promise<{ etag: string }> {
    return inCall(call, () => this.writeSmallObject(name, data, condition));
  }

  protected override _deleteObject(name: string, condition: { ifMatch: string } | undefined, call: StorageCallContext): Promise<void> {
    return inCall(call, () => this.deleteSmallObject(name, condition));
  }

  private async openLtx(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const key = this.layout.ltxKey(ref);
    const missing = (cause: unknown): NotFoundError => new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: key, cause });
    if (range.size === 0) {
      // No bytes wanted, but a missing file must still be reported as missing.
      await this.bucket
        .send('GET', () => this.s3.send(new HeadObjectCommand({ Bucket: this.bucket.name, Key: key, ...this.settings.encryption.read })))
        .catch((error: unknown) => {
          throw isNotFound(error) ? missing(error) : this.bucket.wrap(error, 'HeadObject', key);
        });
      return Readable.from([], { objectMode: false });
    }
    const end = range.size === undefined ? '' : String(range.offset + range.size - 1);
    const rangeHeader = range.offset === 0 && range.size === undefined ? undefined : `bytes=${range.offset}-${end}`;
    try {
      const out = await this.bucket.send(
        'GET',
        () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket.name, Key: key, Range: rangeHeader, ...this.settings.encryption.read })),
        (o) => o.ContentLength ?? 0,
      );
      return out.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw missing(error);
      // 416: the offset is at or past the end of an object that exists.
      if (isInvalidRange(error)) return Readable.from([], { objectMode: false });
      throw this.bucket.wrap(error, 'GetObject', key);
    }
  }

  protected override _listRawObjects(prefix: string, call: StorageCallContext): AsyncIterable<RawObjectInfo> {
    return iterateInCall(call, this.listRaw(prefix));
  }

  protected override _openRawObject(path: string, call: StorageCallContext): Promise<Readable> {
    return inCall(call, () => this.openRaw(path));
  }

  private async *listRaw(prefix: string): AsyncIterable<RawObjectInfo> {
    const root = this.layout.root;
    for await (const object of this.bucket.list(root + prefix)) {
      if (object.Key === undefined || !object.Key.startsWith(root)) continue;
      yield { path: object.Key.slice(root.length), size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
    }
  }

  private async openRaw(path: string): Promise<Readable> {
    const key = this.layout.root + path;
    try {
      const out = await this.bucket.send(
        'GET',
        () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket.name, Key: key, ...this.settings.encryption.read })),
        (o) => o.ContentLength ?? 0,
      );
      return out.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new NotFoundError(`object ${path}`, { file: key, cause: error });
      throw this.bucket.wrap(error, 'GetObject', key);
    }
  }

  private async writeLtx(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    let timestamp = options.timestamp;
    let source = data;
    if (timestamp === undefined) ({ timestamp, data: source } = await peekLtxTimestamp(data));
    const size = await uploadLtx(this.bucket, this.layout.ltxKey(ref), source, {
      partSize: this.settings.partSize,
      concurrency: this.settings.concurrency,
      storageClass: this.settings.storageClass,
      timestamp,
      signal: options.signal,
    });
    return { size, createdAt: timestamp ?? new Date() };
  }

  private async deleteEverything(): Promise<void> {
    const keys: string[] = [];
    if (this.layout.root !== '') {
      // The path belongs to the replica: everything under it goes, as in Litestream.
      for await (const object of this.bucket.list(this.layout.root)) if (object.Key) keys.push(object.Key);
    } else {
      // At the bucket root, only what a replica writes: the level prefixes and its small objects.
      for (let level = 0; level <= 9; level++) for await (const object of this.bucket.list(this.layout.levelPrefix(level))) if (object.Key) keys.push(object.Key);
      for await (const object of this.bucket.list('', { delimiter: '/' })) if (object.Key && this.layout.isObjectKey(object.Key)) keys.push(object.Key);
    }
    await deleteKeys(this.bucket, keys, this.verifyDeletes);
  }

  private async readSmallObject(name: string): Promise<StoredObject | undefined> {
    const key = this.layout.objectKey(name);
    try {
      const out = await this.bucket.send('GET', () => this.s3.send(new GetObjectCommand({ Bucket: this.bucket.name, Key: key, ...this.settings.encryption.read })), (o) => o.ContentLength ?? 0);
      const data = await out.Body!.transformToByteArray();
      return { data, etag: requireEtag(out.ETag, key) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.bucket.wrap(error, 'GetObject', key);
    }
  }

  private async writeSmallObject(name: string, data: Uint8Array, condition: WriteCondition | undefined): Promise<{ etag: string }> {
    const key = this.layout.objectKey(name);
    const precondition = condition === undefined ? {} : 'ifNoneMatch' in condition ? { IfNoneMatch: '*' } : { IfMatch: condition.ifMatch };
    try {
      const out = await this.bucket.send(
        'PUT',
        () => this.s3.send(new PutObjectCommand({ Bucket: this.bucket.name, Key: key, Body: data, ContentLength: data.byteLength, ...precondition, ...this.settings.encryption.write })),
        () => data.byteLength,
      );
      return { etag: requireEtag(out.ETag, key) };
    } catch (error) {
      // If-Match on a missing object: AWS answers 404, the contract calls it a failed precondition.
      if (isPreconditionFailure(error) || (condition && 'ifMatch' in condition && isNotFound(error))) throw new PreconditionFailedError(key, condition);
      throw this.bucket.wrap(error, 'PutObject', key);
    }
  }

  private async deleteSmallObject(name: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const key = this.layout.objectKey(name);
    try {
      await this.bucket.send('DELETE', () => this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket.name, Key: key, ...(condition ? { IfMatch: condition.ifMatch } : {}) })));
    } catch (error) {
      if (condition && (isPreconditionFailure(error) || isNotFound(error))) throw new PreconditionFailedError(key, condition);
      if (isNotFound(error)) return;
      throw this.bucket.wrap(error, 'DeleteObject', key);
    }
  }

  override async close(): Promise<void> {
    this.s3.destroy();
  }

  /** The object key (or server path) of a stored file, for messages. */
  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return this.layout.ltxKey(ref);
  }
}

function requireEtag(etag: string | undefined, key: string): string {
  if (!etag) throw new S3RequestError('object request', key, { code: 'MissingETag', status: undefined, message: 'the store returned no ETag, which conditional writes need' });
  return etag;
}
