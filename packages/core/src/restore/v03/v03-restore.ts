import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../../engine/logger.ts';
import { asLocalWriteError, LocalWriteError } from '../../io/local-write-error.ts';
import { LitestreamError, UsageError } from '../../ltx/errors.ts';
import { decodeLz4FrameStream, type Lz4FrameStreamDecoder } from '../../lz4/frame-stream.ts';
import type { ReplicaClient } from '../../replica/replica-client.ts';
import { parseSqliteHeader } from '../../sqlite/database-header.ts';
import { buildAndPublish } from '../build-and-publish.ts';
import type { IntegrityCheckMode } from '../integrity-check.ts';
import { removeRestoreLeftovers } from '../leftovers.ts';
import { checkOutputFree } from '../output-file.ts';
import type { RestoreResult } from '../restore.ts';
import type { RestoreWorkDir } from '../work-dir.ts';
import { v03SegmentPath, type V03WalSegment } from './v03-catalog.ts';
import { V03BackupError } from './v03-errors.ts';
import type { V03RestorePlan } from './v03-plan.ts';
import { createObjectSource, type ObjectSource } from './object-window.ts';
import { WalIndexApplier, WalIndexError } from './wal-index-applier.ts';

/** Options of {@link restoreV03}: where from, which plan, where to. */
export interface V03RestoreOptions {
  readonly client: ReplicaClient;
  readonly plan: V03RestorePlan;
  /** Path of the database to create. */
  readonly outputPath: string;
  readonly integrityCheck?: IntegrityCheckMode;
  /** Replace an existing output database (and its `-wal`/`-shm`/`-journal`). Default false. */
  readonly overwrite?: boolean;
  readonly logger?: Logger;
  /** Called as compressed bytes arrive, with bytes so far and the plan's total. */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** The LZ4 frame decoder (default: {@link decodeLz4FrameStream}). */
  readonly decodeFrames?: Lz4FrameStreamDecoder;
  /** Stops the restore: every file it wrote is removed and the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Objects downloaded ahead at once from a replica not read in place (default 8). */
  readonly parallelism?: number;
}

/** What a v0.3 restore did: `RestoreResult` (its `txid` is 0: v0.3 has no TXIDs) plus the v0.3 position reached. */
export interface V03RestoreResult extends RestoreResult {
  readonly format: 'v0.3';
  readonly generation: string;
  /** WAL index of the restored state (the snapshot's when no segment was applied). */
  readonly index: number;
  /** Bytes of that WAL index applied (0 when none). */
  readonly offset: number;
}

// Decompressed snapshot bytes gathered before one positioned write into the database.
const SNAPSHOT_WRITE_BYTES = 1024 * 1024;

/**
 * Rebuilds a database from a Litestream v0.3 plan. Objects are read in place from a replica
 * declaring `localReads`, otherwise downloaded ahead into the work directory, `parallelism` at a
 * time with retries (see `createObjectSource`). The snapshot is decompressed into the
 * restore's work directory (`.<name>.restore-<pid>-<random>`, as for LTX restores, so a killed
 * v0.3 restore is cleaned up the same way), then each WAL index's segments are decompressed,
 * checked frame by frame and applied as a checkpoint would (see `WalIndexApplier`), with
 * segment offsets checked to follow on; the result is fsynced, optionally checked by SQLite, and
 * only then renamed into place. On any failure, and when `signal` aborts, the work directory is
 * removed and no output is left; the error names the object (its path below the replica path)
 * and what failed, and a local write failure is a `LocalWriteError` naming the path.
 */
export async function restoreV03(options: V03RestoreOptions): Promise<V03RestoreResult> {
  const started = performance.now();
  const { client, plan, signal } = options;
  const logger = options.logger ?? silentLogger;
  const mode = options.integrityCheck ?? 'none';
  const overwrite = options.overwrite ?? false;
  const decode = options.decodeFrames ?? decodeLz4FrameStream;
  if (typeof options.outputPath !== 'string' || options.outputPath === '') throw new UsageError('restore needs an output path');
  if (!['none', 'quick', 'full'].includes(mode)) throw new UsageError(`integrity check must be none, quick or full, got ${String(mode)}`);
  if (options.parallelism !== undefined && (!Number.isSafeInteger(options.parallelism) || options.parallelism < 1)) throw new UsageError(`parallelism must be a positive integer, got ${options.parallelism}`);
  const output = resolve(options.outputPath);
  signal?.throwIfAborted();
  await removeRestoreLeftovers(output, logger);
  await checkOutputFree(output, overwrite);
  logger.info('restoring from Litestream v0.3 backup', { output, generation: plan.generation, snapshot: plan.snapshot.path, segments: plan.segments.length, bytes: plan.size });

  let done = 0;
  const onBytes = (bytes: number): void => {
    signal?.throwIfAborted();
    done += bytes;
    options.onProgress?.(done, plan.size);
  };
  const planned = [plan.snapshot, ...plan.segments];
  let reading: ObjectSource | undefined;
  let db: FileHandle | undefined;
  let wal: FileHandle | undefined;
  let position = { index: plan.snapshot.index, offset: 0 };
  const build = async (work: RestoreWorkDir): Promise<void> => {
    const staging = join(work.path, 'wal-index');
    const source = createObjectSource(client, planned, work.path, { parallelism: options.parallelism, signal, onBytes });
    reading = source;
    /** The decompressed bytes of object `i`, errors naming it. */
    const objects = (i: number): AsyncIterable<Uint8Array> => decode(read(source, i, planned[i]!.path));
    db = await openLocal(work.databasePath, 'wx+');
    const pageSize = await writeSnapshot(db, work.databasePath, objects(0), plan.snapshot.path);
    await source.done(0);
    logger.debug('restored v0.3 snapshot', { snapshot: plan.snapshot.path });
    let next = 1;
    if (plan.segments.length > 0) wal = await openLocal(staging, 'w+');
    for (const group of byIndex(plan.segments)) {
      const applier = new WalIndexApplier(db, wal!, pageSize);
      for (const segment of group) {
        if (segment.offset !== applier.received) throw gapError(segment, applier.received);
        try {
          for await (const chunk of objects(next)) await applier.write(chunk);
        } catch (error) {
          throw objectError(segment.path, error, staging);
        }
        await source.done(next++);
      }
      const last = group[group.length - 1]!;
      try {
        await applier.finish();
        await wal!.truncate(0);
      } catch (error) {
        throw objectError(last.path, error, work.databasePath);
      }
      position = { index: last.index, offset: applier.received };
      logger.debug('applied v0.3 WAL index', { generation: plan.generation, index: last.index, frames: applier.frames, commits: applier.commits });
    }
    try {
      await db.sync();
      await db.close();
    } catch (error) {
      throw asLocalWriteError(error, work.databasePath, 'write the restored database');
    }
    db = undefined;
  };
  await buildAndPublish({ output, integrityCheck: mode, overwrite, signal, logger }, build, async () => {
    await reading?.abort();
    await db?.close().catch(() => {});
    await wal?.close().catch(() => {});
  });

  const durationMs = Math.round(performance.now() - started);
  const files = 1 + plan.segments.length;
  logger.info('restored', { output, format: 'v0.3', generation: plan.generation, index: position.index, offset: position.offset, files, bytes: plan.size, durationMs });
  return { format: 'v0.3', txid: 0, files, bytes: plan.size, outputPath: output, timestamp: plan.timestamp, durationMs, generation: plan.generation, ...position };
}

async function openLocal(path: string, flags: string): Promise<FileHandle> {
  try {
    return await open(path, flags);
  } catch (error) {
    throw asLocalWriteError(error, path, 'create a file of the restore');
  }
}

/** Writes the decompressed snapshot into `db` and checks it is a SQLite database image; returns its page size. */
async function writeSnapshot(db: FileHandle, dbPath: string, bytes: AsyncIterable<Uint8Array>, path: string): Promise<number> {
  let size = 0;
  let head: Buffer | undefined;
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    let written = 0;
    try {
      while (written < data.byteLength) written += (await db.write(data, written, data.byteLength - written, size + written)).bytesWritten;
    } catch (error) {
      throw asLocalWriteError(error, dbPath, 'write the restored database');
    }
    size += data.byteLength;
    pending.length = 0;
    pendingBytes = 0;
  };
  try {
    for await (const chunk of bytes) {
      const have = head?.byteLength ?? 0;
      if (have < 100) head = Buffer.concat([head ?? Buffer.alloc(0), chunk.subarray(0, 100 - have)]);
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= SNAPSHOT_WRITE_BYTES) await flush();
    }
    if (pendingBytes > 0) await flush();
  } catch (error) {
    throw objectError(path, error, dbPath);
  }
  let pageSize: number;
  try {
    pageSize = parseSqliteHeader(head ?? Buffer.alloc(0), size).pageSize;
  } catch (error) {
    throw new V03BackupError(path, `the snapshot is not a SQLite database image: ${(error as Error).message}`);
  }
  if (size % pageSize !== 0) throw new V03BackupError(path, `the snapshot's ${size} bytes are not a whole number of ${pageSize}-byte pages (truncated?)`);
  return pageSize;
}

/** Object `index` from `source`; failing to get or read it is an error naming `path`. */
async function* read(source: ObjectSource, index: number, path: string): AsyncGenerator<Uint8Array> {
  let stream: AsyncIterable<Uint8Array>;
  try {
    stream = await source.open(index);
  } catch (error) {
    throw objectError(path, error, undefined);
  }
  try {
    yield* stream;
  } catch (error) {
    throw objectError(path, error, undefined);
  }
}

/** Segments grouped by WAL index, in order. */
function byIndex(segments: readonly V03WalSegment[]): V03WalSegment[][] {
  const groups: V03WalSegment[][] = [];
  for (const segment of segments) {
    const group = groups[groups.length - 1];
    if (group && group[0]!.index === segment.index) group.push(segment);
    else groups.push([segment]);
  }
  return groups;
}

function gapError(segment: V03WalSegment, expected: number): V03BackupError {
  if (segment.offset > expected) {
    return new V03BackupError(
      v03SegmentPath(segment.generation, segment.index, expected),
      `missing: WAL index ${segment.index} of generation ${segment.generation} continues at offset ${expected}, but the next segment is ${segment.path}`,
    );
  }
  return new V03BackupError(segment.path, `overlaps the segments before it: they end at offset ${expected} of WAL index ${segment.index}`);
}

/**
 * An error while reading or applying an object, as one line naming it. Errors that already
 * name a file pass through: a backend's (naming the full key), a local write failure (naming
 * the local path), an abort. A system error writing `localPath` becomes a `LocalWriteError`.
 */
function objectError(path: string, error: unknown, localPath: string | undefined): Error {
  if (error instanceof V03BackupError || error instanceof LocalWriteError) return error;
  if (error instanceof LitestreamError && error.file !== undefined) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  if (localPath !== undefined && !(error instanceof LitestreamError) && !(error instanceof WalIndexError) && typeof (error as NodeJS.ErrnoException).code === 'string') {
    return asLocalWriteError(error, localPath, 'write the restored database') as Error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new V03BackupError(path, message, { cause: error });
}
