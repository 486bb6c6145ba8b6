import { Readable } from 'node:stream';
import { MAX_LEVEL } from '../ltx/constants.ts';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import { assertTXID, formatLtxFilename, type TXID } from '../ltx/txid.ts';
import { guardListing, guardReadable, guardSource } from './guarded-io.ts';
import { StorageCall, StorageTimeoutError, type StorageCallContext } from './storage-call.ts';
import { resolveStorageTimeouts, type StorageTimeouts } from './storage-timeouts.ts';
import { assertRawObjectPath, assertRawObjectPrefix, type RawObjectInfo } from './raw-objects.ts';

/** One LTX file held by a replica. */
export interface LtxFileInfo {
  /** Compaction level: 0..8 are tiers, 9 holds snapshots. */
  readonly level: number;
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
  /** Size in bytes of the stored file. */
  readonly size: number;
  /**
   * When the file was made: the LTX header timestamp when the backend stores it as
   * metadata and the listing asked for it, otherwise the store's own modification time.
   */
  readonly createdAt: Date;
}

/** Names one LTX file: level and TXID range. */
export interface LtxFileRef {
  readonly level: number;
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
}

/** What a backend can do beyond the required operations. Declared by the backend, read by the suite. */
export interface ReplicaCapabilities {
  /**
   * Honours the preconditions (`ifNoneMatch`, `ifMatch`) of `writeObject`/`deleteObject` (used
   * for leasing). Small objects without a condition are part of every backend's contract.
   */
  readonly conditionalWrite: boolean;
  /** Stores each file's LTX timestamp as metadata, so `listLtxFiles(…, { useMetadata: true })` is exact. */
  readonly metadataTimestamps: boolean;
  /** `native` when the store serves byte ranges; `emulated` when the client skips bytes itself. */
  readonly rangedReads: 'native' | 'emulated';
  /**
   * Stored files are local (or mounted) files: reading one is as cheap as reading any file,
   * with nothing to transfer or retry. The backend then implements `_localLtxPath`, and
   * restore reads each file in place while applying it instead of downloading it ahead into
   * a staging directory beside the output. Optional; absent means false, which remote stores
   * should keep (their transfers are better overlapped with applying, and retried, there).
   */
  readonly localReads?: boolean;
  /**
   * `writeLtxFile` is done with each chunk of an async-iterable source by the time it asks
   * for the next one (it writes or copies every chunk before pulling more), so a producer
   * may reuse its buffers. The engine then streams snapshots through a few recycled chunks
   * instead of garbage that the collector reclaims late. Optional; absent means false, which
   * stores that queue or batch chunks (multipart uploads, network streams) must keep.
   */
  readonly releasesChunks?: boolean;
  /**
   * Implements `listRawObjects`/`openRawObject`: any object under the replica path can be
   * listed and read by its relative path, outside the LTX layout. Restore uses it to read
   * Litestream v0.3 generations. Optional; absent means false (restore then reads LTX only).
   */
  readonly rawObjectReads?: boolean;
}

/** What every storage call accepts. */
export interface CallOptions {
  /**
   * Abandons the call: it rejects with the signal's reason at once, and the backend stops the
   * request where its SDK can. A write abandoned this way stores nothing (or the whole file, if
   * it had already landed).
   */
  readonly signal?: AbortSignal;
}

export interface ListLtxOptions extends CallOptions {
  /** Only files whose minTXID is at or after this TXID. */
  readonly seek?: TXID;
  /** Read timestamps from object metadata (slower on some stores) instead of modification times. */
  readonly useMetadata?: boolean;
}

export interface OpenLtxOptions extends CallOptions {
  /** First byte to return (default 0). An offset at or past the end yields no bytes. */
  readonly offset?: number;
  /** How many bytes at most (default: to the end). Zero yields an empty stream. */
  readonly size?: number;
}

export interface WriteLtxOptions extends CallOptions {
  /** The LTX header timestamp, stored as metadata by backends that can. */
  readonly timestamp?: Date;
}

export interface WriteLtxResult {
  readonly size: number;
  readonly createdAt: Date;
}

/** The kinds of storage request, as Litestream's metrics label them. */
export type StorageOperation = 'GET' | 'PUT' | 'DELETE' | 'LIST';

/** Receives each storage operation's kind, bytes moved and whether it failed. */
export type OperationObserver = (operation: StorageOperation, bytes: number, error: boolean) => void;

/** Bytes to write: a buffer, a Node stream, or any async iterable of chunks. */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array>;

/** Condition for a conditional object write or delete. */
export type WriteCondition =
  | { readonly ifNoneMatch: '*' }
  | { readonly ifMatch: string };

export interface StoredObject {
  readonly data: Uint8Array;
  /** Opaque version tag: changes whenever the object is replaced. */
  readonly etag: string;
}

/**
 * The precondition of a conditional write or delete did not hold. Expected in normal
 * operation (another process won a lease race), so it is not a `UsageError`.
 */
export class PreconditionFailedError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_PRECONDITION_FAILED';
  constructor(name: string, condition: WriteCondition | undefined) {
    super(
      `precondition failed: ${condition === undefined ? 'object changed' : 'ifNoneMatch' in condition ? 'object already exists' : `object is missing or its etag is no longer ${condition.ifMatch}`}`,
      { file: name },
    );
  }
}

/**
 * A replica client as its users see it: what the engine, restore, leasing and hosts call.
 * Backends implement it by extending the abstract class of the same name (`class MyClient
 * extends ReplicaClient`), which validates arguments, enforces timeouts and aborts, and
 * calls the protected `_method`s a backend overrides.
 *
 * Hosts and core take this interface, not the class, so a client built against another copy
 * of `@litestream-ts/core` (a backend that resolved its own version) is accepted as it is:
 * a class type with private members would only match its own declaration.
 *
 * Required semantics (checked by `@litestream-ts/conformance`):
 * - listings are sorted by minTXID, then maxTXID, and contain only well-formed LTX names
 *   (names that `parseLtxFilename` refuses are skipped);
 * - writes are atomic: a reader sees the whole old file, the whole new file, or nothing;
 *   a write whose source stream fails rejects, stores nothing and leaves a previous file whole;
 * - opening a missing file rejects with `NotFoundError`; deleting one is not an error;
 * - `deleteAll` removes every LTX file and every small object (such as a lease);
 * - small objects (`readObject`/`writeObject`/`deleteObject`, such as a lease or the owner
 *   marker) are stored by every backend beside the LTX files, never listed as LTX files; a
 *   missing one reads as undefined and an unconditional delete of one is not an error;
 * - conditional objects (only with `conditionalWrite`): `ifMatch` against a missing object
 *   fails with `PreconditionFailedError`;
 * - every call honours an `AbortSignal` and the request timeout: the base class rejects the call
 *   as soon as either fires, and hands the backend a signal to stop the request itself.
 */
export interface ReplicaClient {
  /** The backend's config `type` (for example `file`, `s3`). */
  readonly type: string;
  readonly capabilities: ReplicaCapabilities;
  /** Connect and request timeouts in force (ms, defaults filled in). */
  readonly timeouts: Required<StorageTimeouts>;
  /**
   * Reports every storage operation (LIST, GET, PUT, DELETE) with its byte count and outcome,
   * whatever part of the engine made it: the CLI turns these into Prometheus counters.
   */
  observe(observer: OperationObserver): this;
  /** LTX files of one level, in TXID order. */
  listLtxFiles(level: number, options?: ListLtxOptions): AsyncGenerator<LtxFileInfo>;
  /** Opens a stored LTX file, or a byte range of it. Rejects with `NotFoundError` when missing. */
  openLtxFile(ref: LtxFileRef, options?: OpenLtxOptions): Promise<Readable>;
  /** Where a stored LTX file lives on this machine, for backends that declare `localReads` (undefined otherwise). */
  localLtxPath(ref: LtxFileRef): string | undefined;
  /** Where a stored LTX file lives, for messages: the backend's object key or path (never a credential). */
  ltxFileLocation(ref: LtxFileRef): string;
  /** Stores a whole LTX file from a stream, replacing any file of the same name. */
  writeLtxFile(ref: LtxFileRef, data: ByteSource, options?: WriteLtxOptions): Promise<WriteLtxResult>;
  /** Deletes files; names that do not exist are ignored. */
  deleteLtxFiles(refs: readonly LtxFileRef[], options?: CallOptions): Promise<void>;
  /** Deletes every file this replica holds under its path. */
  deleteAll(options?: CallOptions): Promise<void>;
  /** Reads a small non-LTX object (such as a lease) with its etag; undefined when missing. */
  readObject(name: string, options?: CallOptions): Promise<StoredObject | undefined>;
  /** Writes a small object, replacing it; with a condition (`conditionalWrite` only), only if it holds, else `PreconditionFailedError`. */
  writeObject(name: string, data: Uint8Array, condition?: WriteCondition, options?: CallOptions): Promise<{ etag: string }>;
  /** Deletes a small object unconditionally, or only if its etag still matches (`conditionalWrite`). */
  deleteObject(name: string, condition?: { ifMatch: string }, options?: CallOptions): Promise<void>;
  /** Every object whose path below the replica path starts with `prefix`. Needs `capabilities.rawObjectReads`. */
  listRawObjects(prefix: string, options?: CallOptions): AsyncGenerator<RawObjectInfo>;
  /** Opens an object by its path below the replica path; rejects with `NotFoundError` when missing. */
  openRawObject(path: string, options?: CallOptions): Promise<Readable>;
  /** Releases connections; the client is unusable afterwards. */
  close(): Promise<void>;
}

/** Marks instances of the base class below, whichever copy of core made them. */
const CLIENT_BRAND: unique symbol = Symbol.for('litestream-ts.replica-client') as never;

/**
 * The base class of every backend's client (exported as `ReplicaClient`): its public methods
 * validate their arguments and then call the protected `_method` a backend overrides, so
 * backends only talk to their store and may assume valid input. See the `ReplicaClient`
 * interface for the semantics a backend must keep.
 */
export abstract class ReplicaClientBase implements ReplicaClient {
  /** The backend's config `type` (for example `file`, `s3`). */
  abstract readonly type: string;
  abstract readonly capabilities: ReplicaCapabilities;
  /** Connect and request timeouts in force (ms, defaults filled in). */
  readonly timeouts: Required<StorageTimeouts>;
  private observer: OperationObserver | undefined;

  /**
   * @param timeouts the backend's `connectTimeout` (its SDK enforces it) and `requestTimeout`
   * (enforced here for every call: no progress for that long rejects it with `StorageTimeoutError`).
   */
  constructor(timeouts: StorageTimeouts = {}) {
    this.timeouts = resolveStorageTimeouts({ connectTimeout: timeouts.connectTimeout, requestTimeout: timeouts.requestTimeout });
    Object.defineProperty(this, CLIENT_BRAND, { value: true });
  }

  /**
   * `value instanceof ReplicaClient` holds for a client of any copy of core (each base class
   * brands its instances under a registry-wide symbol); a backend's own class (`instanceof
   * S3ReplicaClient`) is matched by prototype as usual.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === ReplicaClientBase && typeof value === 'object' && value !== null && (value as { [CLIENT_BRAND]?: unknown })[CLIENT_BRAND] === true;
  }

  /**
   * Reports every storage operation (LIST, GET, PUT, DELETE) with its byte count and outcome,
   * whatever part of the engine made it: the CLI turns these into Prometheus counters.
   */
  observe(observer: OperationObserver): this {
    this.observer = observer;
    return this;
  }

  /** LTX files of one level, in TXID order. */
  async *listLtxFiles(level: number, options: ListLtxOptions = {}): AsyncGenerator<LtxFileInfo> {
    assertLevel(level);
    if (options.seek !== undefined) assertTXID(options.seek, 'seek');
    yield* this.#list(`list of level ${level}`, options.signal, (call) => this._listLtxFiles(level, { seek: options.seek, useMetadata: options.useMetadata, ...context(call) }));
  }

  /** Opens a stored LTX file, or a byte range of it. Rejects with `NotFoundError` when missing. */
  async openLtxFile(ref: LtxFileRef, options: OpenLtxOptions = {}): Promise<Readable> {
    assertRef(ref);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new UsageError(`offset must be a non-negative integer, got ${options.offset}`);
    if (options.size !== undefined && (!Number.isSafeInteger(options.size) || options.size < 0)) {
      throw new UsageError(`size must be a non-negative integer, got ${options.size}`);
    }
    return this.#open(`read of ${describeRef(ref)}`, options.signal, (call) => this._openLtxFile(ref, { offset, size: options.size, ...context(call) }));
  }

  /** Runs one listing as a storage call: guarded by its timeouts and signal, observed as one LIST. */
  async *#list<T>(what: string, signal: AbortSignal | undefined, list: (call: StorageCall) => AsyncIterable<T>): AsyncGenerator<T> {
    const call = this.#call(what, signal);
    try {
      yield* guardListing(list(call), call);
    } catch (err) {
      this.observer?.('LIST', 0, !signal?.aborted);
      throw err;
    } finally {
      call.finish();
    }
    this.observer?.('LIST', 0, false);
  }

  /** Runs a call that opens a stream: the call goes on while the body streams, and ends with it. */
  async #open(what: string, signal: AbortSignal | undefined, open: (call: StorageCall) => Promise<Readable>): Promise<Readable> {
    const call = this.#call(what, signal);
    try {
      const stream = await this.observed('GET', call, () => {
        call.throwIfAborted();
        const opening = open(call);
        // A stream that arrives after the call was abandoned has no reader: close it.
        opening.then((late) => call.signal.aborted && late.destroy(), () => {});
        return call.run(opening);
      }, () => 0);
      return guardReadable(stream, call);
    } catch (err) {
      call.finish();
      throw err;
    }
  }

  /**
   * Where a stored LTX file lives on this machine, for backends that declare `localReads`
   * (undefined otherwise): a reader may open it and read it in place, with its own buffers.
   * The path is only a location; whether the file exists is found out by opening it.
   */
  localLtxPath(ref: LtxFileRef): string | undefined {
    assertRef(ref);
    return this.capabilities.localReads === true ? this._localLtxPath(ref) : undefined;
  }

  /**
   * Where a stored LTX file lives, for messages: the backend's object key or path (never a
   * credential). Backends that know their keys override `_ltxFileLocation`; otherwise it is the
   * local path for `localReads` backends, else `<level>/<min>-<max>.ltx`.
   */
  ltxFileLocation(ref: LtxFileRef): string {
    assertRef(ref);
    return this._ltxFileLocation(ref) ?? this.localLtxPath(ref) ?? `${ref.level}/${ltxFilename(ref)}`;
  }

  /** Stores a whole LTX file from a stream, replacing any file of the same name. */
  async writeLtxFile(ref: LtxFileRef, data: ByteSource, options: WriteLtxOptions = {}): Promise<WriteLtxResult> {
    assertRef(ref);
    if (options.timestamp !== undefined && !(options.timestamp instanceof Date && Number.isFinite(options.timestamp.getTime()))) {
      throw new UsageError(`timestamp must be a valid Date, got ${String(options.timestamp)}`);
    }
    return this.#guarded('PUT', `write of ${describeRef(ref)}`, options.signal, (call) =>
      this._writeLtxFile(ref, guardSource(toAsyncIterable(data), call), { timestamp: options.timestamp, ...context(call) }), (r) => r.size);
  }

  /** Deletes files; names that do not exist are ignored. */
  async deleteLtxFiles(refs: readonly LtxFileRef[], options: CallOptions = {}): Promise<void> {
    refs.forEach(assertRef);
    if (refs.length > 0) await this.#guarded('DELETE', `delete of ${refs.length === 1 ? describeRef(refs[0]!) : `${refs.length} LTX files`}`, options.signal, (call) => this._deleteLtxFiles(refs, context(call)), () => 0);
  }

  /** Deletes every file this replica holds under its path. */
  async deleteAll(options: CallOptions = {}): Promise<void> {
    const call = this.#call('delete of every file', options.signal);
    try {
      call.throwIfAborted();
      await call.run(this._deleteAll(context(call)));
    } finally {
      call.finish();
    }
  }

  /** Reads a small non-LTX object (such as a lease) with its etag; undefined when missing. */
  async readObject(name: string, options: CallOptions = {}): Promise<StoredObject | undefined> {
    assertObjectName(name);
    return this.#guarded('GET', `read of ${name}`, options.signal, (call) => this._readObject(name, context(call)), (o) => o?.data.byteLength ?? 0);
  }

  /**
   * Writes a small object, replacing it; with a condition (backends declaring `conditionalWrite`
   * only), only if the condition holds, rejecting with `PreconditionFailedError` otherwise.
   */
  async writeObject(name: string, data: Uint8Array, condition?: WriteCondition, options: CallOptions = {}): Promise<{ etag: string }> {
    assertObjectName(name);
    if (condition !== undefined) this.assertConditional();
    return this.#guarded('PUT', `write of ${name}`, options.signal, (call) => this._writeObject(name, data, condition, context(call)), () => data.byteLength);
  }

  /** Deletes a small object unconditionally, or only if its etag still matches (`conditionalWrite`). */
  async deleteObject(name: string, condition?: { ifMatch: string }, options: CallOptions = {}): Promise<void> {
    assertObjectName(name);
    if (condition !== undefined) this.assertConditional();
    return this.#guarded('DELETE', `delete of ${name}`, options.signal, (call) => this._deleteObject(name, condition, context(call)), () => 0);
  }

  /**
   * Every object whose path below the replica path starts with `prefix` ('' or a directory
   * ending in `/`), at any depth, in no particular order. Needs `capabilities.rawObjectReads`.
   */
  async *listRawObjects(prefix: string, options: CallOptions = {}): AsyncGenerator<RawObjectInfo> {
    this.assertRawReads();
    assertRawObjectPrefix(prefix);
    yield* this.#list(`list of objects under ${JSON.stringify(prefix)}`, options.signal, (call) => this._listRawObjects(prefix, context(call)));
  }

  /** Opens an object by its path below the replica path; rejects with `NotFoundError` when missing. */
  async openRawObject(path: string, options: CallOptions = {}): Promise<Readable> {
    this.assertRawReads();
    assertRawObjectPath(path);
    return this.#open(`read of object ${path}`, options.signal, (call) => this._openRawObject(path, context(call)));
  }

  /** Releases connections; the client is unusable afterwards. */
  async close(): Promise<void> {}

  // The `_methods` a backend implements. Each receives the call's `signal` and `progress`
  // (`StorageCallContext`): pass the signal to the SDK so an abandoned request stops, and report
  // progress the base class cannot see. The call has already rejected when the signal fires.
  protected abstract _listLtxFiles(level: number, options: Omit<ListLtxOptions, 'signal'> & StorageCallContext): AsyncIterable<LtxFileInfo>;
  protected abstract _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable>;
  protected abstract _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: Omit<WriteLtxOptions, 'signal'> & StorageCallContext): Promise<WriteLtxResult>;
  protected abstract _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void>;
  protected abstract _deleteAll(call: StorageCallContext): Promise<void>;

  /** The local path of a stored file; backends declaring `localReads` override it. */
  protected _localLtxPath(_ref: LtxFileRef): string | undefined {
    return undefined;
  }

  /** The key or path of a stored file, for messages; undefined to use the default. */
  protected _ltxFileLocation(_ref: LtxFileRef): string | undefined {
    return undefined;
  }

  protected _listRawObjects(_prefix: string, _call: StorageCallContext): AsyncIterable<RawObjectInfo> {
    throw new UsageError(`the ${this.type} backend cannot read objects by path`);
  }
  protected _openRawObject(_path: string, _call: StorageCallContext): Promise<Readable> {
    throw new UsageError(`the ${this.type} backend cannot read objects by path`);
  }

  protected abstract _readObject(name: string, call: StorageCallContext): Promise<StoredObject | undefined>;
  /** `condition` is undefined unless the backend declares `conditionalWrite`. */
  protected abstract _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, call: StorageCallContext): Promise<{ etag: string }>;
  protected abstract _deleteObject(name: string, condition: { ifMatch: string } | undefined, call: StorageCallContext): Promise<void>;

  /** A new call of this client, with its request timeout: `what` names it in a timeout's message. */
  #call(what: string, signal: AbortSignal | undefined): StorageCall {
    return new StorageCall(`${this.type} ${what}`, this.timeouts.requestTimeout, signal);
  }

  /** Runs a call that ends when its promise settles: guarded by its signal and clock, and observed. */
  async #guarded<T>(operation: StorageOperation, what: string, signal: AbortSignal | undefined, run: (call: StorageCall) => Promise<T>, bytes: (result: T) => number): Promise<T> {
    const call = this.#call(what, signal);
    try {
      // A call whose signal already fired never reaches the backend.
      return await this.observed(operation, call, () => {
        call.throwIfAborted();
        return call.run(run(call));
      }, bytes);
    } finally {
      call.finish();
    }
  }

  private async observed<T>(operation: StorageOperation, call: StorageCall, run: () => Promise<T>, bytes: (result: T) => number): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (err) {
      // A lost precondition is an answer, and a call its caller abandoned no failure of the store.
      const callerAborted = call.signal.aborted && call.signal.reason === err && !(err instanceof StorageTimeoutError);
      this.observer?.(operation, 0, !(err instanceof PreconditionFailedError) && !callerAborted);
      throw err;
    }
    this.observer?.(operation, bytes(result), false);
    return result;
  }

  private assertRawReads(): void {
    if (this.capabilities.rawObjectReads !== true) throw new UsageError(`the ${this.type} backend cannot read objects by path`);
  }

  private assertConditional(): void {
    if (!this.capabilities.conditionalWrite) throw new UsageError(`the ${this.type} backend does not support conditional writes`);
  }
}

/**
 * The class backends extend (`class MyClient extends ReplicaClient`); as a type, `ReplicaClient`
 * is the interface above, which clients from any copy of core satisfy.
 */
export const ReplicaClient = ReplicaClientBase;

function assertObjectName(name: string): void {
  if (!isObjectName(name)) throw new UsageError(`invalid object name ${JSON.stringify(name)}`);
}

/**
 * True for a valid small-object name (such as `lock.json`): letters, digits, `.`, `_`, `-`;
 * not only dots (a path would escape the replica) and not ending in `.ltx`. Backends use it to
 * tell their objects apart from other files when listing or deleting everything.
 */
export function isObjectName(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && !/^\.+$/.test(name) && !name.endsWith('.ltx');
}

/** Throws unless `level` is an integer in 0..9. */
export function assertLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL) throw new UsageError(`level must be an integer from 0 to ${MAX_LEVEL}, got ${level}`);
}

/** Throws unless `ref` names a valid level and TXID range. */
export function assertRef(ref: LtxFileRef): void {
  assertLevel(ref.level);
  assertTXID(ref.minTXID, 'minTXID');
  assertTXID(ref.maxTXID, 'maxTXID');
  if (ref.minTXID < 1 || ref.minTXID > ref.maxTXID) throw new UsageError(`invalid TXID range ${ref.minTXID}..${ref.maxTXID}`);
}

/** `<min>-<max>.ltx` for a file reference. */
export function ltxFilename(ref: LtxFileRef): string {
  return formatLtxFilename(ref.minTXID, ref.maxTXID);
}

/** Sorts file infos the way listings must be ordered. */
export function compareLtxFiles(a: LtxFileRef, b: LtxFileRef): number {
  return a.level - b.level || a.minTXID - b.minTXID || a.maxTXID - b.maxTXID;
}

/** `level 0 file 0000000000000001-0000000000000001.ltx`, for messages. */
function describeRef(ref: LtxFileRef): string {
  return `level ${ref.level} file ${ltxFilename(ref)}`;
}

/** What a backend's `_method` receives of a call. */
function context(call: StorageCall): StorageCallContext {
  return { signal: call.signal, progress: call.progress, failed: call.failed };
}

function toAsyncIterable(data: ByteSource): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) return Readable.from([data], { objectMode: false });
  return data;
}
