import { Readable } from 'node:stream';
import { headers, type ObjectInfo } from 'nats';
import {
  LitestreamError,
  NotFoundError,
  PreconditionFailedError,
  ReplicaClient,
  compareLtxFiles,
  formatTXID,
  ltxFilename,
  type ListLtxOptions,
  type LtxFileInfo,
  type LtxFileRef,
  type ReplicaCapabilities,
  type StoredObject,
  type WriteCondition,
  type WriteLtxOptions,
  type WriteLtxResult,
} from '@litestream-ts/core';
import { TIMESTAMP_HEADER, formatLtxTimestamp, parseLtxTimestamp, peekLtxTimestamp } from './ltx-timestamp.ts';
import { SharedNatsConnection, type NatsSession } from './nats-connection.ts';
import { NatsRequestError, isWrongLastSequence } from './nats-errors.ts';
import { resolveNatsSettings, secretsOf, type NatsReplicaClientOptions, type NatsSettings } from './nats-settings.ts';
import { NatsObjectLayout } from './object-layout.ts';
import { conditionalDelete } from './object-meta.ts';
import { readAll, sliceToReadable, toWebStream } from './object-streams.ts';

/** Metadata keys written next to Litestream's timestamp header (ours; Litestream ignores them). */
export const METADATA_KEYS = { timestamp: 'litestream-timestamp', minTXID: 'litestream-min-txid', maxTXID: 'litestream-max-txid' } as const;

const DELETE_CONCURRENCY = 8;

/**
 * Replica in a NATS JetStream object store, laid out as Litestream v0.5's NATS client does:
 * `ltx/<level>/<minTXID>-<maxTXID>.ltx` with the LTX timestamp in the `Litestream-Timestamp`
 * header. Conditional writes use JetStream's expected-last-subject-sequence on the object's
 * metadata subject, so etags are object revisions.
 */
export class NatsReplicaClient extends ReplicaClient {
  readonly type = 'nats';
  readonly capabilities: ReplicaCapabilities = Object.freeze({
    conditionalWrite: true,
    metadataTimestamps: true,
    rangedReads: 'emulated',
  });
  /** Settings in force (they include credentials: do not log them). */
  readonly settings: NatsSettings;
  readonly layout: NatsObjectLayout;
  private readonly connection: SharedNatsConnection;
  private readonly secrets: readonly string[];

  constructor(options: NatsReplicaClientOptions) {
    // `connect-timeout`/`request-timeout` win over Litestream's `timeout` for the connection and
    // JetStream requests (see resolveNatsSettings). The inactivity clock of every call is the
    // request timeout when given, else the default: a backstop behind nats.js's own timeouts.
    super({ connectTimeout: options.connectTimeout ?? options.timeoutMs, requestTimeout: options.requestTimeout });
    this.settings = resolveNatsSettings(options);
    this.layout = new NatsObjectLayout(this.settings.path);
    this.secrets = secretsOf(options);
    this.connection = new SharedNatsConnection(this.settings, this.secrets, this.describe());
  }

  /** `nats://host:port/bucket[/path]`, for logs: no credentials. */
  describe(): string {
    const server = this.settings.servers.join(',');
    return `${server.replace(/\/+$/, '')}/${this.settings.bucket}${this.settings.path ? `/${this.settings.path}` : ''}`;
  }

  /** The open connection and object store (connecting first if needed), for callers that need more. */
  session(): Promise<NatsSession> {
    return this.connection.session();
  }

  protected async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncGenerator<LtxFileInfo> {
    const objects = await this.call('list', this.layout.levelPrefix(level), (s) => s.os.list());
    const files: LtxFileInfo[] = [];
    for (const info of objects) {
      const ref = this.layout.parseLtxName(info.name, level);
      if (ref === undefined || info.deleted) continue;
      if (options.seek !== undefined && ref.minTXID < options.seek) continue;
      // The header comes with the listing at no cost, so it is used whether or not useMetadata asks (as Litestream does).
      files.push({ ...ref, size: info.size, createdAt: storedTimestamp(info) ?? new Date(info.mtime) });
    }
    yield* files.sort(compareLtxFiles);
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const name = this.layout.ltxName(ref);
    const missing = (): NotFoundError => new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: `${this.describe()}/${name}` });
    if (range.size === 0) {
      const info = await this.call('info', name, (s) => s.os.info(name));
      if (info === null || info.deleted) throw missing();
      return Readable.from([], { objectMode: false });
    }
    const result = await this.call('get', name, (s) => s.os.get(name));
    if (result === null) throw missing();
    // The stream reports the same failure; this promise must not become an unhandled rejection.
    result.error.catch(() => {});
    if (range.offset >= result.info.size) {
      await result.data.cancel().catch(() => {});
      return Readable.from([], { objectMode: false });
    }
    return sliceToReadable(result.data, range.offset, range.size, this.settings.timeoutMs, `${this.describe()}/${name}`);
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
    const name = this.layout.ltxName(ref);
    let { timestamp } = options;
    let source = data;
    if (timestamp === undefined) ({ timestamp, data: source } = await peekLtxTimestamp(data));
    const meta = { name, headers: headers(), metadata: { [METADATA_KEYS.minTXID]: formatTXID(ref.minTXID), [METADATA_KEYS.maxTXID]: formatTXID(ref.maxTXID) } as Record<string, string> };
    if (timestamp !== undefined) {
      meta.headers.set(TIMESTAMP_HEADER, formatLtxTimestamp(timestamp));
      meta.metadata[METADATA_KEYS.timestamp] = formatLtxTimestamp(timestamp);
    }
    const info = await this.call('put', name, (s) => s.os.put(meta, toWebStream(source), { timeout: this.settings.timeoutMs }));
    return { size: info.size, createdAt: timestamp ?? new Date(info.mtime) };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[]): Promise<void> {
    await this.deleteNames(refs.map((ref) => this.layout.ltxName(ref)));
  }

  protected async _deleteAll(): Promise<void> {
    const objects = await this.call('list', this.layout.prefix || '(bucket)', (s) => s.os.list());
    await this.deleteNames(objects.filter((o) => !o.deleted && this.layout.owns(o.name)).map((o) => o.name));
  }

  protected override async _readObject(name: string): Promise<StoredObject | undefined> {
    const key = this.layout.objectName(name);
    // A read that races a replacement finds the old chunks purged and stalls: read again.
    for (let attempt = 1; ; attempt++) {
      const result = await this.call('get', key, (s) => s.os.get(key));
      if (result === null) return undefined;
      result.error.catch(() => {});
      try {
        const data = await readAll(result.data, Math.min(this.settings.timeoutMs, 2000), `${this.describe()}/${key}`);
        return { data, etag: String(result.info.revision) };
      } catch (error) {
        if (attempt >= 3) throw this.wrap('get', key, error);
      }
    }
  }

  protected override async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined): Promise<{ etag: string }> {
    const key = this.layout.objectName(name);
    let previousRevision: number | undefined;
    if (condition !== undefined) {
      const current = await this.call('info', key, (s) => s.os.info(key));
      const live = current !== null && !current.deleted;
      if ('ifNoneMatch' in condition) {
        if (live) throw new PreconditionFailedError(key, condition);
        // After a delete the name's subject holds a delete marker: creating means replacing exactly that.
        previousRevision = current?.revision ?? 0;
      } else {
        if (!live || String(current.revision) !== condition.ifMatch) throw new PreconditionFailedError(key, condition);
        previousRevision = current.revision;
      }
    }
    try {
      const session = await this.connection.session();
      const info = await session.os.put({ name: key }, toWebStream(Readable.from([data])), { timeout: this.settings.timeoutMs, ...(previousRevision === undefined ? {} : { previousRevision }) });
      return { etag: String(info.revision) };
    } catch (error) {
      if (condition !== undefined && isWrongLastSequence(error)) throw new PreconditionFailedError(key, condition);
      throw this.wrap('put', key, error);
    }
  }

  protected override async _deleteObject(name: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const key = this.layout.objectName(name);
    if (condition === undefined) {
      await this.deleteNames([key]);
      return;
    }
    const current = await this.call('info', key, (s) => s.os.info(key));
    if (current === null || current.deleted || String(current.revision) !== condition.ifMatch) throw new PreconditionFailedError(key, condition);
    try {
      await conditionalDelete(await this.connection.session(), current, this.settings.timeoutMs);
    } catch (error) {
      if (isWrongLastSequence(error)) throw new PreconditionFailedError(key, condition);
      throw this.wrap('delete', key, error);
    }
  }

  /** Drains the connection: requests under way finish, new ones are refused. */
  override async close(): Promise<void> {
    await this.connection.close();
  }

  private async deleteNames(names: readonly string[]): Promise<void> {
    const queue = [...names];
    const worker = async (): Promise<void> => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        const key = name;
        // delete() of a missing name resolves with success: false; an already deleted one gets a fresh marker, harmlessly.
        await this.call('delete', key, (s) => s.os.delete(key));
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
  }

  private async call<T>(operation: string, object: string, run: (session: NatsSession) => Promise<T>): Promise<T> {
    const session = await this.connection.session();
    try {
      return await run(session);
    } catch (error) {
      throw this.wrap(operation, object, error);
    }
  }

  private wrap(operation: string, object: string, error: unknown): Error {
    if (error instanceof LitestreamError) return error;
    return new NatsRequestError(operation, `${this.describe()}/${object}`, error, this.secrets, this.settings.timeoutMs);
  }

  /** The object key (or server path) of a stored file, for messages. */
  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return this.layout.ltxName(ref);
  }
}

function storedTimestamp(info: ObjectInfo): Date | undefined {
  // Listings hand over the raw JSON (headers as a record); info() wraps it (headers as MsgHdrs).
  const raw = info.headers as unknown;
  let value: string | undefined;
  if (raw && typeof (raw as { get?: unknown }).get === 'function') value = (raw as { get(k: string): string }).get(TIMESTAMP_HEADER) || undefined;
  else if (raw && typeof raw === 'object') {
    const entry = Object.entries(raw as Record<string, unknown>).find(([k]) => k.toLowerCase() === TIMESTAMP_HEADER.toLowerCase());
    value = Array.isArray(entry?.[1]) ? String(entry[1][0]) : typeof entry?.[1] === 'string' ? entry[1] : undefined;
  }
  value ??= info.metadata?.[METADATA_KEYS.timestamp];
  return value === undefined ? undefined : parseLtxTimestamp(value);
}
