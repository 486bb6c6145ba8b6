import { Readable } from 'node:stream';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
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
import { deleteBlobs } from './abs-deletes.ts';
import { AbsRequestError, isBlobNotFound, isInvalidRange, isPreconditionFailure, wrapAbsError, type AbsTarget } from './abs-errors.ts';
import { AbsLayout } from './abs-layout.ts';
import { listBlobs, listLevel } from './abs-listing.ts';
import { DEFAULT_MAX_TRIES, createBlobService } from './abs-service-client.ts';
import { chooseAbsCredentials, describeCredential, resolveAbsSettings, type AbsCredentialSource, type AbsReplicaClientOptions, type AbsSettings } from './abs-settings.ts';
import { TIMESTAMP_METADATA_KEY, formatLtxTimestamp, peekLtxTimestamp } from './ltx-timestamp.ts';

const DEFAULT_BLOCK_SIZE = 4 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
const DEFAULT_DELETE_CONCURRENCY = 16;

/**
 * Replica in an Azure Blob Storage container, laid out as Litestream v0.5 does:
 * `<path>/ltx/<level>/<min>-<max>.ltx` with the LTX timestamp as `litestreamtimestamp`
 * metadata, and small objects (leases) at `<path>/<name>` written with If-None-Match/If-Match.
 */
export class AbsReplicaClient extends ReplicaClient {
  readonly type = 'abs';
  readonly capabilities: ReplicaCapabilities = Object.freeze({ conditionalWrite: true, metadataTimestamps: true, rangedReads: 'native', rawObjectReads: true });
  readonly settings: AbsSettings;
  /** Which source the credential comes from (never the credential itself). */
  readonly credentialSource: AbsCredentialSource;
  readonly layout: AbsLayout;
  /** The SDK clients, for callers that inspect the store directly. */
  readonly service: BlobServiceClient;
  readonly container: ContainerClient;
  private readonly target: AbsTarget;
  private readonly options: AbsReplicaClientOptions;

  constructor(options: AbsReplicaClientOptions) {
    super(options);
    this.options = options;
    this.settings = resolveAbsSettings(options);
    const choice = chooseAbsCredentials(options, this.settings.account, options.env ?? process.env);
    this.credentialSource = choice.source;
    this.layout = new AbsLayout(this.settings.path);
    this.service = createBlobService(this.settings, choice, options, this.timeouts);
    this.container = this.service.getContainerClient(this.settings.container);
    const secrets: string[] = [];
    if ('sasToken' in choice) secrets.push(choice.sasToken, ...(new URLSearchParams(choice.sasToken).getAll('sig')));
    if ('accountKey' in choice) secrets.push(choice.accountKey);
    this.target = { account: this.settings.account || '(unnamed)', container: this.settings.container, endpoint: this.settings.endpoint, credential: describeCredential(choice.source), secrets, maxTries: options.maxTries ?? DEFAULT_MAX_TRIES };
  }

  /** `abs://container/path (account, endpoint)`, for logs. */
  describe(): string {
    return `abs://${this.settings.container}/${this.settings.path} (account ${this.target.account}, ${this.settings.endpoint})`;
  }

  // Every SDK call takes the storage call's signal, which ends the request and its retries.
  protected async *_listLtxFiles(level: number, options: ListLtxOptions & StorageCallContext): AsyncGenerator<LtxFileInfo> {
    const prefix = this.layout.levelPrefix(level);
    try {
      yield* listLevel(listBlobs(this.container, prefix, this.options.listPageSize, options.signal), level, prefix, options);
    } catch (error) {
      throw this.wrap(error, `list of "${prefix}" in container "${this.settings.container}"`, undefined);
    }
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    const abortSignal = range.signal;
    const name = this.layout.ltxKey(ref);
    const blob = this.container.getBlobClient(name);
    const missing = (): NotFoundError => new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: name });
    try {
      if (range.size === 0) {
        // No bytes wanted, but a missing file must still be reported as missing.
        await blob.getProperties({ abortSignal });
        return Readable.from([], { objectMode: false });
      }
      const response = await blob.download(range.offset, range.size, { abortSignal });
      return response.readableStreamBody as Readable;
    } catch (error) {
      if (isBlobNotFound(error)) throw missing();
      // 416: the offset is at or past the end of a blob that exists.
      if (isInvalidRange(error)) return Readable.from([], { objectMode: false });
      throw this.wrap(error, 'download', name);
    }
  }

  protected override async *_listRawObjects(prefix: string, call: StorageCallContext): AsyncIterable<RawObjectInfo> {
    const root = this.layout.root;
    try {
      for await (const item of listBlobs(this.container, root + prefix, this.options.listPageSize, call.signal)) {
        if (!item.name.startsWith(root)) continue;
        yield { path: item.name.slice(root.length), size: item.properties.contentLength ?? 0, modifiedAt: item.properties.lastModified };
      }
    } catch (error) {
      throw this.wrap(error, `list of "${root + prefix}" in container "${this.settings.container}"`, undefined);
    }
  }

  protected override async _openRawObject(path: string, call: StorageCallContext): Promise<Readable> {
    const name = this.layout.root + path;
    try {
      const response = await this.container.getBlobClient(name).download(0, undefined, { abortSignal: call.signal });
      return response.readableStreamBody as Readable;
    } catch (error) {
      if (isBlobNotFound(error)) throw new NotFoundError(`object ${path}`, { file: name });
      throw this.wrap(error, 'download', name);
    }
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    const name = this.layout.ltxKey(ref);
    let timestamp = options.timestamp;
    let source = data;
    if (timestamp === undefined) ({ timestamp, data: source } = await peekLtxTimestamp(data));
    const counter = { bytes: 0 };
    try {
      // Staged blocks only become the blob at the final block list commit, so a failing
      // source leaves no blob and an older one whole.
      await this.container.getBlockBlobClient(name).uploadStream(
        Readable.from(counted(source, counter), { objectMode: false }),
        this.options.blockSize ?? DEFAULT_BLOCK_SIZE,
        this.options.concurrency ?? DEFAULT_CONCURRENCY,
        {
          abortSignal: options.signal,
          // Each staged block is progress the base class cannot see (it only sees the source pulled).
          onProgress: () => options.progress(),
          blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
          ...(timestamp === undefined ? {} : { metadata: { [TIMESTAMP_METADATA_KEY]: formatLtxTimestamp(timestamp) } }),
        },
      );
    } catch (error) {
      throw this.wrap(error, 'upload', name);
    }
    return { size: counter.bytes, createdAt: timestamp ?? new Date() };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    await this.deleteNames(refs.map((ref) => this.layout.ltxKey(ref)), call.signal);
  }

  protected async _deleteAll(call: StorageCallContext): Promise<void> {
    const names: string[] = [];
    const abortSignal = call.signal;
    try {
      if (this.layout.path !== '') {
        // The path belongs to the replica: everything under it goes, as in Litestream.
        for await (const item of listBlobs(this.container, this.layout.root, this.options.listPageSize, abortSignal)) names.push(item.name);
      } else {
        // At the container root, only what a replica writes: ltx/ and its small objects.
        for await (const item of listBlobs(this.container, 'ltx/', this.options.listPageSize, abortSignal)) names.push(item.name);
        for await (const item of this.container.listBlobsByHierarchy('/', { abortSignal })) if (item.kind === 'blob' && this.layout.isObjectKey(item.name)) names.push(item.name);
      }
    } catch (error) {
      throw this.wrap(error, `list for delete-all in container "${this.settings.container}"`, undefined);
    }
    await this.deleteNames(names, abortSignal);
  }

  protected override async _readObject(name: string, call: StorageCallContext): Promise<StoredObject | undefined> {
    const key = this.layout.objectKey(name);
    try {
      const response = await this.container.getBlobClient(key).download(0, undefined, { abortSignal: call.signal });
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody ?? []) chunks.push(Buffer.from(chunk as Uint8Array));
      return { data: new Uint8Array(Buffer.concat(chunks)), etag: requireEtag(response.etag, key) };
    } catch (error) {
      if (isBlobNotFound(error)) return undefined;
      throw this.wrap(error, 'download', key);
    }
  }

  protected override async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, call: StorageCallContext): Promise<{ etag: string }> {
    const key = this.layout.objectKey(name);
    const conditions = condition === undefined ? {} : 'ifNoneMatch' in condition ? { ifNoneMatch: '*' } : { ifMatch: condition.ifMatch };
    try {
      const response = await this.container.getBlockBlobClient(key).upload(data, data.byteLength, { conditions, abortSignal: call.signal });
      return { etag: requireEtag(response.etag, key) };
    } catch (error) {
      // If-Match on a missing blob: 412 from Azure, 404 from some emulators; the contract says precondition.
      if (condition !== undefined && (isPreconditionFailure(error) || isBlobNotFound(error))) throw new PreconditionFailedError(key, condition);
      throw this.wrap(error, 'upload', key);
    }
  }

  protected override async _deleteObject(name: string, condition: { ifMatch: string } | undefined, call: StorageCallContext): Promise<void> {
    const key = this.layout.objectKey(name);
    try {
      await this.container.getBlobClient(key).delete({ abortSignal: call.signal, ...(condition === undefined ? {} : { conditions: { ifMatch: condition.ifMatch } }) });
    } catch (error) {
      if (condition !== undefined && (isPreconditionFailure(error) || isBlobNotFound(error))) throw new PreconditionFailedError(key, condition);
      if (isBlobNotFound(error)) return;
      throw this.wrap(error, 'delete', key);
    }
  }

  private deleteNames(names: readonly string[], abortSignal: AbortSignal): Promise<void> {
    return deleteBlobs(this.container, names, this.options.deleteConcurrency ?? DEFAULT_DELETE_CONCURRENCY, (error, name) => this.wrap(error, 'delete', name), abortSignal);
  }

  private wrap(error: unknown, operation: string, blob: string | undefined): Error {
    return wrapAbsError(error, operation, blob, this.target);
  }

  /** The object key (or server path) of a stored file, for messages. */
  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return this.layout.ltxKey(ref);
  }
}

async function* counted(source: AsyncIterable<Uint8Array>, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    counter.bytes += chunk.byteLength;
    yield chunk;
  }
}

function requireEtag(etag: string | undefined, key: string): string {
  if (!etag) throw new AbsRequestError('request', key, { code: 'MissingETag', status: undefined, message: 'the store returned no ETag, which conditional writes need' });
  return etag;
}
