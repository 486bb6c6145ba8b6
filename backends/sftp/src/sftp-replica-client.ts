import { Readable } from 'node:stream';
import {
  isObjectName,
  NotFoundError,
  ReplicaClient,
  UsageError,
  compareLtxFiles,
  ltxFilename,
  parseLtxFilename,
  type ListLtxOptions,
  type LtxFileInfo,
  type LtxFileRef,
  type RawObjectInfo,
  type ReplicaCapabilities,
  type StorageCallContext,
  type StorageTimeouts,
  type StoredObject,
  type WriteCondition,
  type WriteLtxOptions,
  type WriteLtxResult,
} from '@litestream-ts/core';
import type { SftpSettings } from './sftp-config.ts';
import { SftpConnection } from './sftp-connection.ts';
import { SftpDownload } from './sftp-download.ts';
import type { SftpLockOptions } from './sftp-lock.ts';
import { SftpObjects } from './sftp-objects.ts';
import { SFTP_NO_SUCH_FILE, hasSftpCode, isDirectory, isRegularFile, type SftpEntry, type SftpOps } from './sftp-session.ts';
import { discardIfAbandoned, publishReplace, stageUpload } from './sftp-upload.ts';

/** Options of {@link SftpReplicaClient}: the replica settings plus what only code can pass. */
/**
 * Options of {@link SftpReplicaClient}: the replica settings plus what only code can pass.
 * `connectTimeout` is ssh2's `readyTimeout` (TCP connect, SSH handshake and authentication;
 * default 30 s, Litestream's dial timeout); `requestTimeout` ends a call without progress and
 * drops the connection it stalled on.
 */
export interface SftpReplicaClientOptions extends SftpSettings, StorageTimeouts {
  /** Private key contents instead of `keyPath`. */
  readonly privateKey?: string | Buffer;
  /** Passphrase of an encrypted private key (never logged). */
  readonly passphrase?: string;
  /** Former name of `connectTimeout`, still accepted. */
  readonly dialTimeoutMs?: number;
  /** Receives warnings, such as an unpinned host key. */
  readonly warn?: (message: string) => void;
  /** Tuning of the lock behind compare-and-swap object writes. */
  readonly lock?: SftpLockOptions;
}

const DEFAULT_DIAL_TIMEOUT_MS = 30_000;
// Requests pipelined on the one channel for batch deletes.
const DELETE_CONCURRENCY = 32;
// OpenSSH's largest read (its 256 KiB packet limit less 1 KiB): each chunk is one request.
const READ_CHUNK_SIZE = 255 * 1024;

/**
 * Replica on an SSH server over SFTP, laid out like Litestream's sftp replica:
 * `<path>/ltx/<level>/<minTXID>-<maxTXID>.ltx`, plus small objects (leases) at `<path>/<name>`.
 * Writes go to a hidden temp file and are renamed into place atomically (posix-rename).
 */
export class SftpReplicaClient extends ReplicaClient {
  readonly type = 'sftp';
  readonly capabilities: ReplicaCapabilities = Object.freeze({
    conditionalWrite: true,
    // SFTP v3 mtimes are whole seconds: createdAt is the LTX timestamp truncated to the second.
    metadataTimestamps: false,
    rangedReads: 'native',
    // Any file under the replica directory can be listed and read (Litestream v0.3 generations).
    rawObjectReads: true,
  });
  /** Replica directory on the server (no trailing slash; '.' is the login directory). */
  readonly root: string;
  private readonly connection: SftpConnection;
  private readonly concurrentWrites: boolean;
  private readonly objects: SftpObjects;

  constructor(options: SftpReplicaClientOptions) {
    super({ connectTimeout: options.connectTimeout ?? options.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, requestTimeout: options.requestTimeout });
    if (!options.host) throw new UsageError('sftp replica needs a host');
    if (!options.user) throw new UsageError('sftp replica needs a user');
    const path = (options.path ?? '').replace(/\/+$/, '');
    this.root = path === '' ? (options.path?.startsWith('/') ? '' : '.') : path;
    this.connection = new SftpConnection({
      host: options.host,
      port: options.port ?? 22,
      user: options.user,
      password: options.password,
      keyPath: options.keyPath,
      privateKey: options.privateKey,
      passphrase: options.passphrase,
      hostKey: options.hostKey,
      dialTimeoutMs: this.timeouts.connectTimeout,
    });
    this.concurrentWrites = options.concurrentWrites ?? true;
    this.objects = new SftpObjects(options.lock);
    if (options.hostKey === undefined || options.hostKey === '') {
      options.warn?.(`sftp host key of ${this.connection.address} is not verified: set "host-key" to the server's public key to prevent man-in-the-middle attacks`);
    }
  }

  /** `user@host:port` of the server. */
  get address(): string {
    return this.connection.address;
  }

  /** Directory holding one level's files. */
  levelPath(level: number): string {
    return `${this.root}/ltx/${level}`;
  }

  /** Where an LTX file lives on the server. */
  ltxPath(ref: LtxFileRef): string {
    return `${this.levelPath(ref.level)}/${ltxFilename(ref)}`;
  }

  // Every operation passes its call's signal: a stalled one drops the connection (see `run`).
  protected async *_listLtxFiles(level: number, options: ListLtxOptions & StorageCallContext): AsyncIterable<LtxFileInfo> {
    // readdir returns each entry's attributes, so size and mtime cost no extra round trip.
    const entries = await this.connection.run(async (ops) => {
      try {
        return await ops.readdir(this.levelPath(level));
      } catch (error) {
        if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return [] as SftpEntry[];
        throw error;
      }
    }, true, options.signal);
    const files: LtxFileInfo[] = [];
    for (const entry of entries) {
      if (!isRegularFile(entry.attrs)) continue;
      const range = parseLtxFilename(entry.filename);
      if (range === undefined) continue;
      if (options.seek !== undefined && range.minTXID < options.seek) continue;
      files.push({ level, ...range, size: entry.attrs.size, createdAt: new Date(entry.attrs.mtime * 1000) });
    }
    yield* files.sort(compareLtxFiles);
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    const path = this.ltxPath(ref);
    return this.connection.run(async (ops) => {
      let handle: Buffer;
      try {
        // Opening before returning makes a missing file a rejected promise, not a stream error.
        handle = await ops.open(path, 'r');
      } catch (error) {
        if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) throw new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: path, cause: error });
        throw error;
      }
      if (range.size === 0) {
        await ops.close(handle);
        return Readable.from([], { objectMode: false });
      }
      return new SftpDownload(ops, handle, range, READ_CHUNK_SIZE);
    }, true, range.signal);
  }

  protected override async *_listRawObjects(prefix: string, call: StorageCallContext): AsyncIterable<RawObjectInfo> {
    // One connection for the whole walk; the files are collected, then yielded.
    const files = await this.connection.run(async (ops) => {
      const found: RawObjectInfo[] = [];
      await this.walk(ops, prefix.replace(/\/$/, ''), found);
      return found;
    }, true, call.signal);
    yield* files;
  }

  protected override _openRawObject(path: string, call: StorageCallContext): Promise<Readable> {
    const full = `${this.root}/${path}`;
    return this.connection.run(async (ops) => {
      let handle: Buffer;
      try {
        handle = await ops.open(full, 'r');
      } catch (error) {
        if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) throw new NotFoundError(`object ${path}`, { file: full, cause: error });
        throw error;
      }
      return new SftpDownload(ops, handle, { offset: 0, size: undefined }, READ_CHUNK_SIZE);
    }, true, call.signal);
  }

  /** Adds the regular files below `dir` (relative to the root, every depth) to `found`. */
  private async walk(ops: SftpOps, dir: string, found: RawObjectInfo[]): Promise<void> {
    let entries: SftpEntry[];
    try {
      entries = await ops.readdir(dir === '' ? (this.root === '' ? '/' : this.root) : `${this.root}/${dir}`);
    } catch (error) {
      if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return;
      throw error;
    }
    for (const entry of entries) {
      if (entry.filename === '.' || entry.filename === '..') continue;
      const path = dir === '' ? entry.filename : `${dir}/${entry.filename}`;
      if (isDirectory(entry.attrs)) await this.walk(ops, path, found);
      else if (isRegularFile(entry.attrs)) found.push({ path, size: entry.attrs.size, modifiedAt: new Date(entry.attrs.mtime * 1000) });
    }
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    const path = this.ltxPath(ref);
    const dir = this.levelPath(ref.level);
    // The source can be consumed only once, so a write is never retried on a new connection.
    return this.connection.run(async (ops) => {
      // One stat per upload (as Litestream's MkdirAll): a cache would go stale when another
      // client's deleteAll removes the directory.
      await ops.mkdirp(dir);
      const mtimeSeconds = options.timestamp === undefined ? undefined : Math.floor(options.timestamp.getTime() / 1000);
      const staged = await stageUpload(ops, path, data, { concurrent: this.concurrentWrites, ...(mtimeSeconds === undefined ? {} : { mtimeSeconds }) });
      await discardIfAbandoned(ops, staged, options.signal);
      await publishReplace(ops, staged, path);
      return { size: staged.size, createdAt: new Date(staged.attrs.mtime * 1000) };
    }, false, options.signal);
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    await this.connection.run(async (ops) => {
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < refs.length && !call.signal.aborted) await ops.unlinkIfPresent(this.ltxPath(refs[next++]!));
      };
      await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, refs.length) }, worker));
    }, true, call.signal);
  }

  protected async _deleteAll(call: StorageCallContext): Promise<void> {
    await this.connection.run(async (ops) => {
      await ops.removeTree(`${this.root}/ltx`);
      let entries: SftpEntry[];
      try {
        entries = await ops.readdir(this.root === '' ? '/' : this.root);
      } catch (error) {
        if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return;
        throw error;
      }
      // Objects, their locks and stray temp files are the regular files directly under the root.
      const files = entries.filter((e) => isRegularFile(e.attrs) && isObjectName(e.filename));
      await Promise.all(files.map((e) => ops.unlinkIfPresent(`${this.root}/${e.filename}`)));
    }, true, call.signal);
  }

  protected override _readObject(name: string, call: StorageCallContext): Promise<StoredObject | undefined> {
    return this.connection.run((ops) => this.objects.read(ops, this.objectPath(name)), true, call.signal);
  }

  protected override _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, call: StorageCallContext): Promise<{ etag: string }> {
    // Not retried: after a lost connection the first attempt may have won, and a retry would then fail its own precondition.
    return this.connection.run(async (ops) => {
      await ops.mkdirp(this.root);
      return this.objects.write(ops, this.objectPath(name), data, condition, call.signal);
    }, false, call.signal);
  }

  protected override _deleteObject(name: string, condition: { ifMatch: string } | undefined, call: StorageCallContext): Promise<void> {
    return this.connection.run((ops) => this.objects.delete(ops, this.objectPath(name), condition), condition === undefined, call.signal);
  }

  /** Ends the SSH connection; the client is unusable afterwards. */
  override async close(): Promise<void> {
    await this.connection.close();
  }

  private objectPath(name: string): string {
    return `${this.root}/${name}`;
  }

  /** The object key (or server path) of a stored file, for messages. */
  protected override _ltxFileLocation(ref: LtxFileRef): string {
    return this.ltxPath(ref);
  }
}
