import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  KeyLayout,
  NotFoundError,
  ReplicaClient,
  parseLtxFilename,
  type LtxFileInfo,
  type LtxFileRef,
  type ReplicaCapabilities,
  type StorageCallContext,
  type StorageTimeouts,
  type StoredObject,
  type WriteLtxResult,
} from '@litestream-ts/core';
import type { WebdavSettings } from './webdav-config.ts';
import { WebdavHttp } from './webdav-http.ts';
import { PROPFIND_BODY, parseMultistatus, type DavEntry } from './webdav-propfind.ts';
import { stageBody, type StagedBody } from './webdav-staging.ts';

/** Options of a `WebdavReplicaClient`: the settings plus timeouts. */
export interface WebdavReplicaClientOptions extends StorageTimeouts {
  /** Base URL `http(s)://host[:port][/base]` (Litestream's `webdav-url`). */
  readonly url: string;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Replica directory below the base URL (default: the base itself). */
  readonly path?: string | undefined;
  /** Bytes an upload may hold in memory before it is staged in a temporary file (default 8 MiB). */
  readonly memoryStagingLimit?: number | undefined;
}

// Deletes sent at once by deleteLtxFiles and deleteAll.
const DELETE_CONCURRENCY = 8;

/**
 * A replica in a WebDAV collection, laid out as Litestream v0.5's webdav replica:
 * `<path>/ltx/<level>/<minTXID>-<maxTXID>.ltx`, small objects at `<path>/<name>`.
 *
 * Uploads are staged (memory, or a temporary file when large) so each PUT has a Content-Length,
 * go to a hidden temporary name in the level's collection and are renamed into place with MOVE,
 * so a reader never sees part of a file. Missing collections are created on demand (MKCOL).
 * WebDAV servers do not reliably honour `If-Match`/`If-None-Match` on PUT, so this backend
 * declares no conditional writes (Litestream's own webdav replica has none either).
 */
export class WebdavReplicaClient extends ReplicaClient {
  readonly type = 'webdav';
  readonly capabilities: ReplicaCapabilities = { conditionalWrite: false, metadataTimestamps: false, rangedReads: 'native' };
  readonly layout: KeyLayout;
  readonly http: WebdavHttp;
  private readonly memoryStagingLimit: number | undefined;
  private readonly creating = new Map<string, Promise<void>>();

  constructor(options: WebdavReplicaClientOptions) {
    super(options);
    const settings: WebdavSettings = {
      url: options.url,
      path: options.path ?? '',
      ...(options.username === undefined ? {} : { username: options.username }),
      ...(options.password === undefined ? {} : { password: options.password }),
    };
    this.layout = new KeyLayout(settings.path);
    this.http = new WebdavHttp(settings, this.timeouts.connectTimeout);
    this.memoryStagingLimit = options.memoryStagingLimit;
  }

  protected async *_listLtxFiles(level: number, options: { seek?: number | undefined } & StorageCallContext): AsyncIterable<LtxFileInfo> {
    const entries = await this.propfind(this.layout.levelPrefix(level), options);
    const files: LtxFileInfo[] = [];
    for (const entry of entries ?? []) {
      if (entry.collection) continue;
      const range = parseLtxFilename(entry.name);
      if (range === undefined || (options.seek !== undefined && range.minTXID < options.seek)) continue;
      files.push({ level, ...range, size: entry.size, createdAt: entry.modified ?? new Date() });
    }
    files.sort((a, b) => a.minTXID - b.minTXID || a.maxTXID - b.maxTXID);
    yield* files;
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    const path = this.layout.ltxKey(ref);
    if (range.size === 0) {
      // No byte range names zero bytes: ask whether the file exists.
      await this.http.call({ method: 'HEAD', path, signal: range.signal, failed: range.failed }, [200]);
      return Readable.from([]);
    }
    const headers: Record<string, string> = {};
    if (range.size !== undefined) headers.range = `bytes=${range.offset}-${range.offset + range.size - 1}`;
    else if (range.offset > 0) headers.range = `bytes=${range.offset}-`;
    const response = await this.http.send({ method: 'GET', path, headers, signal: range.signal, failed: range.failed });
    const status = response.statusCode ?? 0;
    if (status === 416) {
      // The offset is at or past the end of an existing file.
      response.resume();
      return Readable.from([]);
    }
    if (status !== 200 && status !== 206) {
      response.resume();
      throw this.http.failure({ method: 'GET', path }, status, response.statusMessage);
    }
    // A server that ignores Range sends the whole file: skip and cut it here.
    if (status === 200 && headers.range !== undefined) return Readable.from(slice(response, range.offset, range.size));
    return response;
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: { timestamp?: Date | undefined } & StorageCallContext): Promise<WriteLtxResult> {
    const staged = await stageBody(data, options.progress, this.memoryStagingLimit);
    try {
      await this.putAtomically(this.layout.ltxKey(ref), staged, options);
    } finally {
      await staged.dispose();
    }
    return { size: staged.size, createdAt: options.timestamp ?? new Date() };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    await eachLimited(refs, DELETE_CONCURRENCY, (ref) => this.delete(this.layout.ltxKey(ref), call));
  }

  protected async _deleteAll(call: StorageCallContext): Promise<void> {
    // Every member of the replica's collection, not the collection itself: with an empty path
    // that is the base URL, which the replica does not own.
    const entries = await this.propfind(this.layout.root, call);
    const own = this.http.serverPath(this.layout.root).replace(/\/+$/, '');
    const members = (entries ?? []).filter((entry) => entry.path !== own);
    await eachLimited(members, DELETE_CONCURRENCY, (entry) => this.delete(`${this.layout.root}${entry.name}${entry.collection ? '/' : ''}`, call));
  }

  protected async _readObject(name: string, call: StorageCallContext): Promise<StoredObject | undefined> {
    try {
      const { body } = await this.http.call({ method: 'GET', path: this.layout.objectKey(name), signal: call.signal, failed: call.failed }, [200]);
      const data = new Uint8Array(body);
      return { data, etag: etagOf(data) };
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  protected async _writeObject(name: string, data: Uint8Array, _condition: unknown, call: StorageCallContext): Promise<{ etag: string }> {
    const bytes = Buffer.from(data);
    const staged: StagedBody = { size: bytes.byteLength, open: () => bytes, dispose: async () => {} };
    await this.putAtomically(this.layout.objectKey(name), staged, call);
    return { etag: etagOf(data) };
  }

  protected async _deleteObject(name: string, _condition: unknown, call: StorageCallContext): Promise<void> {
    await this.delete(this.layout.objectKey(name), call);
  }

  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return `${this.http.base.origin}${this.http.serverPath(this.layout.ltxKey(ref))}`;
  }

  override async close(): Promise<void> {
    this.http.close();
  }

  /** Members of a collection (Depth: 1), the collection itself included; undefined when it does not exist. */
  private async propfind(collection: string, call: StorageCallContext): Promise<DavEntry[] | undefined> {
    const path = collection === '' || collection.endsWith('/') ? collection : `${collection}/`;
    const body = Buffer.from(PROPFIND_BODY);
    try {
      const answer = await this.http.call(
        { method: 'PROPFIND', path, headers: { depth: '1', 'content-type': 'application/xml; charset=utf-8', 'content-length': body.byteLength }, body, signal: call.signal, failed: call.failed },
        [207],
      );
      call.progress();
      return parseMultistatus(answer.body.toString('utf8'));
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  /** PUT to a hidden temporary name beside `path`, then MOVE it over `path`. */
  private async putAtomically(path: string, staged: StagedBody, call: StorageCallContext): Promise<void> {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const temp = `${dir}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
    const put = () =>
      this.http.call(
        {
          method: 'PUT',
          path: temp,
          headers: { 'content-length': staged.size, 'content-type': 'application/octet-stream' },
          body: () => staged.open(),
          signal: call.signal,
          failed: call.failed,
        },
        [200, 201, 204, 404, 409],
      );
    try {
      let { status } = await put();
      // 409 Conflict (RFC 4918) or, on some servers, 404: a collection on the way is missing.
      if ((status === 409 || status === 404) && dir !== '') {
        await this.ensureCollection(dir, call);
        ({ status } = await put());
      }
      if (status === 409 || status === 404) throw this.http.failure({ method: 'PUT', path: temp }, status, status === 409 ? 'Conflict' : 'Not Found');
    } catch (error) {
      // An upload cut short may have left part of the temporary file.
      this.forget(temp);
      throw error;
    }
    call.progress();
    // A MOVE whose connection dropped may have happened: it is sent again, and a 404 then (the
    // temporary name, unique to this upload, is gone) is success if the file is in place whole.
    let retried = false;
    const failed = (error: unknown): void => {
      retried = true;
      call.failed(error);
    };
    try {
      const { status } = await this.http.call(
        { method: 'MOVE', path: temp, headers: { destination: this.http.urlOf(path).href, overwrite: 'T' }, signal: call.signal, failed },
        [201, 204, 404],
      );
      if (status === 404 && !(retried && (await this.sizeOf(path, call)) === staged.size)) throw this.http.failure({ method: 'MOVE', path: temp }, 404, 'Not Found');
    } catch (error) {
      this.forget(temp);
      throw error;
    }
  }

  /** The size of a stored file, or undefined when it does not exist. */
  private async sizeOf(path: string, call: StorageCallContext): Promise<number | undefined> {
    const { status, headers } = await this.http.call({ method: 'HEAD', path, signal: call.signal, failed: call.failed }, [200, 404]);
    return status === 200 ? Number(headers['content-length']) : undefined;
  }

  /**
   * Creates a collection and any missing parents (MKCOL answers 405 when one exists). Concurrent
   * uploads into one new collection share one creation.
   */
  private ensureCollection(dir: string, call: StorageCallContext): Promise<void> {
    let creating = this.creating.get(dir);
    if (creating === undefined) {
      creating = this.makeCollection(dir, call).finally(() => this.creating.delete(dir));
      this.creating.set(dir, creating);
    }
    return creating;
  }

  private async makeCollection(dir: string, call: StorageCallContext): Promise<void> {
    const mkcol = () => this.http.call({ method: 'MKCOL', path: dir, signal: call.signal, failed: call.failed }, [201, 405, 409]);
    let { status } = await mkcol();
    if (status === 409) {
      const parent = dir.replace(/[^/]+\/$/, '');
      if (parent === '' || parent === dir) throw this.http.failure({ method: 'MKCOL', path: dir }, 409, 'Conflict');
      await this.ensureCollection(parent, call);
      ({ status } = await mkcol());
      if (status === 409) throw this.http.failure({ method: 'MKCOL', path: dir }, 409, 'Conflict');
    }
  }

  private async delete(path: string, call: StorageCallContext): Promise<void> {
    await this.http.call({ method: 'DELETE', path, signal: call.signal, failed: call.failed }, [200, 204, 404]);
    call.progress();
  }

  /** Removes a temporary upload left by a failed rename, in the background (best effort). */
  private forget(temp: string): void {
    const signal = AbortSignal.timeout(this.timeouts.requestTimeout > 0 ? this.timeouts.requestTimeout : 30_000);
    this.http.call({ method: 'DELETE', path: temp, signal }, [200, 204, 404]).catch(() => {});
  }
}

/**
 * An object's etag: a digest of its bytes. Server etags are not used: the one a PUT answers
 * belongs to the temporary name, and MOVE answers none (this backend has no conditional writes).
 */
function etagOf(data: Uint8Array): string {
  return `"sha256-${createHash('sha256').update(data).digest('hex')}"`;
}

/** Bytes [offset, offset + size) of a stream (to its end when size is undefined). */
async function* slice(source: AsyncIterable<Uint8Array>, offset: number, size: number | undefined): AsyncGenerator<Buffer> {
  let skip = offset;
  let left = size ?? Number.POSITIVE_INFINITY;
  for await (const chunk of source) {
    let part = Buffer.from(chunk);
    if (skip > 0) {
      const dropped = Math.min(skip, part.byteLength);
      part = part.subarray(dropped);
      skip -= dropped;
    }
    if (part.byteLength === 0) continue;
    if (part.byteLength > left) part = part.subarray(0, left);
    left -= part.byteLength;
    yield part;
    if (left <= 0) return;
  }
}

/** Runs `task` over `items`, at most `limit` at a time; the first failure rejects. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
