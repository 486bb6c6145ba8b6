import type { BigIntStats } from 'node:fs';
import { open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import {
  isObjectName,
  NotFoundError,
  isErrorCode,
  ReplicaClient,
  UsageError,
  compareLtxFiles,
  ltxFilename,
  parseLtxFilename,
  type ListLtxOptions,
  type RawObjectInfo,
  type LtxFileInfo,
  type LtxFileRef,
  type ReplicaCapabilities,
  type StorageCallContext,
  type StorageTimeouts,
  type StoredObject,
  type WriteCondition,
  type WriteLtxOptions,
  type WriteLtxResult,
} from '@litestream-ts/core';
import { removeIfPresent, writeFileDurably } from './durable-file.ts';
import { deleteObjectFile, readObjectFile, writeObjectFile } from './object-files.ts';
import type { ObjectLockOptions } from './object-lock.ts';

/**
 * Options of a file replica. There is no connection to time out (`connectTimeout` is unused),
 * but `requestTimeout` still ends a call on a hung mount (an NFS server that stopped answering).
 */
export interface FileReplicaClientOptions extends StorageTimeouts {
  /** Tuning of the lock files behind compare-and-swap object writes. */
  readonly lock?: ObjectLockOptions;
}

// Enough parallel stats/unlinks to hide latency on network mounts without flooding the fd table.
const IO_CONCURRENCY = 32;
const READ_CHUNK_SIZE = 512 * 1024;

/**
 * Replica in a local or mounted directory, laid out like Litestream's file replica:
 * `<root>/ltx/<level>/<minTXID>-<maxTXID>.ltx`, plus small objects (leases) at `<root>/<name>`.
 * Files are published by fsync + rename, and each file's mtime is set to its LTX timestamp.
 */
export class FileReplicaClient extends ReplicaClient {
  readonly type = 'file';
  readonly capabilities: ReplicaCapabilities = Object.freeze({
    conditionalWrite: true,
    // Writes stamp the LTX timestamp as the file's mtime, which listings report.
    metadataTimestamps: true,
    rangedReads: 'native',
    // Files are read in place: restore streams them from here instead of copying them first.
    localReads: true,
    // copyInto writes or copies every chunk before it pulls the next.
    releasesChunks: true,
    // Any file under the root can be listed and read (Litestream v0.3 generations).
    rawObjectReads: true,
  });
  /** Absolute path of the replica directory. */
  readonly root: string;
  private readonly lock: ObjectLockOptions;

  constructor(root: string, options: FileReplicaClientOptions = {}) {
    super(options);
    if (root === '') throw new UsageError('file replica needs a directory path');
    // No file system call takes such a path: refuse it here, not at the first write.
    if (root.includes('\0')) throw new UsageError(`file replica directory ${JSON.stringify(root)} contains a NUL character`);
    this.root = resolve(root);
    this.lock = options.lock ?? {};
  }

  /** Directory holding one level's files. */
  levelPath(level: number): string {
    return join(this.root, 'ltx', String(level));
  }

  /** Where an LTX file lives on disk. */
  ltxPath(ref: LtxFileRef): string {
    return join(this.levelPath(ref.level), ltxFilename(ref));
  }

  protected async *_listLtxFiles(level: number, options: ListLtxOptions): AsyncIterable<LtxFileInfo> {
    let names: string[];
    try {
      names = await readdir(this.levelPath(level));
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) return;
      throw error;
    }
    const refs: LtxFileRef[] = [];
    for (const name of names) {
      const range = parseLtxFilename(name);
      if (range === undefined) continue;
      if (options.seek !== undefined && range.minTXID < options.seek) continue;
      refs.push({ level, ...range });
    }
    refs.sort(compareLtxFiles);

    // Stat ahead of the consumer through a bounded window, yielding in sorted order.
    const window: Promise<StatOutcome>[] = [];
    let next = 0;
    const refill = (): void => {
      while (next < refs.length && window.length < IO_CONCURRENCY) window.push(this.statLtxFile(refs[next++]!));
    };
    refill();
    while (window.length > 0) {
      const outcome = await window.shift()!;
      refill();
      if (outcome.error !== undefined) throw outcome.error;
      if (outcome.info !== undefined) yield outcome.info;
    }
  }

  protected async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const path = this.ltxPath(ref);
    let handle;
    try {
      // Opening before returning makes a missing file a rejected promise, not a stream error.
      handle = await open(path, 'r');
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) throw new NotFoundError(`level ${ref.level} LTX file ${ltxFilename(ref)}`, { file: path, cause: error });
      throw error;
    }
    if (range.size === 0) {
      await handle.close();
      return Readable.from([], { objectMode: false });
    }
    const end = range.size === undefined ? Infinity : Math.min(range.offset + range.size - 1, Number.MAX_SAFE_INTEGER);
    return handle.createReadStream({ start: range.offset, end, highWaterMark: READ_CHUNK_SIZE });
  }

  protected override async *_listRawObjects(prefix: string): AsyncIterable<RawObjectInfo> {
    yield* walkFiles(this.root, prefix.replace(/\/$/, ''));
  }

  protected override async _openRawObject(path: string): Promise<Readable> {
    const full = join(this.root, path);
    let handle;
    try {
      handle = await open(full, 'r');
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) throw new NotFoundError(`object ${path}`, { file: full, cause: error });
      throw error;
    }
    return handle.createReadStream({ highWaterMark: READ_CHUNK_SIZE });
  }

  protected override _localLtxPath(ref: LtxFileRef): string {
    return this.ltxPath(ref);
  }

  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions): Promise<WriteLtxResult> {
    const written = await writeFileDurably(this.ltxPath(ref), data, options.timestamp);
    return { size: written.size, createdAt: mtimeOf(written.stats) };
  }

  protected async _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    const failures: unknown[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      // An abandoned call stops between files (each delete is atomic).
      while (next < refs.length && !call.signal.aborted) {
        const path = this.ltxPath(refs[next++]!);
        await removeIfPresent(path).catch((error: unknown) => failures.push(error));
      }
    };
    await Promise.all(Array.from({ length: Math.min(IO_CONCURRENCY, refs.length) }, worker));
    if (failures.length > 0) throw failures[0];
  }

  protected async _deleteAll(): Promise<void> {
    await rm(join(this.root, 'ltx'), { recursive: true, force: true });
    // Objects (leases, their lock and temp files) are the regular files directly under the root.
    let entries;
    try {
      entries = await readdir(this.root, { withFileTypes: true });
    } catch (error) {
      if (isErrorCode(error, 'ENOENT')) return;
      throw error;
    }
    for (const entry of entries) {
      if (!entry.isFile() || !isObjectName(entry.name)) continue;
      await unlink(join(this.root, entry.name)).catch((error: unknown) => {
        if (!isErrorCode(error, 'ENOENT')) throw error;
      });
    }
  }

  // Small objects are a read or a rename away: an abandoned call is left to finish (the base
  // class has already rejected it), hence no use for the call's signal here.
  protected override _readObject(name: string, _call?: StorageCallContext): Promise<StoredObject | undefined> {
    return readObjectFile(this.objectPath(name));
  }

  protected override _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, _call?: StorageCallContext): Promise<{ etag: string }> {
    return writeObjectFile(this.objectPath(name), data, condition, this.lock);
  }

  protected override _deleteObject(name: string, condition: { ifMatch: string } | undefined, _call?: StorageCallContext): Promise<void> {
    return deleteObjectFile(this.objectPath(name), condition, this.lock);
  }

  private objectPath(name: string): string {
    return join(this.root, name);
  }

  private async statLtxFile(ref: LtxFileRef): Promise<StatOutcome> {
    try {
      const stats = await stat(this.ltxPath(ref), { bigint: true });
      if (!stats.isFile()) return {};
      return { info: { ...ref, size: Number(stats.size), createdAt: mtimeOf(stats) } };
    } catch (error) {
      // Deleted between readdir and stat (compaction, retention): simply no longer listed.
      if (isErrorCode(error, 'ENOENT')) return {};
      return { error };
    }
  }
}

/** The regular files below `root/dir` (every depth), as paths relative to `root`. */
async function* walkFiles(root: string, dir: string): AsyncGenerator<RawObjectInfo> {
  let entries;
  try {
    entries = await readdir(dir === '' ? root : join(root, dir), { withFileTypes: true });
  } catch (error) {
    if (isErrorCode(error, 'ENOENT') || isErrorCode(error, 'ENOTDIR')) return;
    throw error;
  }
  for (const entry of entries) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) yield* walkFiles(root, path);
    else if (entry.isFile()) {
      try {
        const stats = await stat(join(root, path), { bigint: true });
        yield { path, size: Number(stats.size), modifiedAt: mtimeOf(stats) };
      } catch (error) {
        // Removed between readdir and stat: no longer listed.
        if (!isErrorCode(error, 'ENOENT')) throw error;
      }
    }
  }
}

/** A stat in the listing window; never rejects, so an abandoned listing leaves no unhandled rejection. */
interface StatOutcome {
  readonly info?: LtxFileInfo;
  readonly error?: unknown;
}

/** The mtime rounded to the millisecond, so a stamped LTX timestamp reads back exactly. */
function mtimeOf(stats: BigIntStats): Date {
  return new Date(Number((stats.mtimeNs + 500_000n) / 1_000_000n));
}
