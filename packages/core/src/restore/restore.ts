import { resolve } from 'node:path';
import { silentLogger, type Logger } from '../engine/logger.ts';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import { defaultPageWorkers, PageWorkerPool } from '../ltx/page-workers.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import { buildAndPublish } from './build-and-publish.ts';
import type { IntegrityCheckMode } from './integrity-check.ts';
import { removeRestoreLeftovers } from './leftovers.ts';
import { LtxApplier } from './ltx-applier.ts';
import { checkOutputFree } from './output-file.ts';
import { createPlanReader, type PlanReader } from './plan-reader.ts';
import { ltxFileLabel, type RestorePlan, type RestoreTarget } from './restore-plan.ts';
import { planReplicaRestore } from './v03/replica-restore-plan.ts';
import { restoreV03 } from './v03/v03-restore.ts';
import type { RestoreWorkDir } from './work-dir.ts';

/** What to restore, from where, to where, and how. `txid`/`timestamp` pick the state (default: latest). */
export interface RestoreOptions extends RestoreTarget {
  readonly client: ReplicaClient;
  /** Path of the database to create. */
  readonly outputPath: string;
  /** Files downloaded at once, and the most kept waiting on disk (default 8). Not used for replicas read in place (`localReads`). */
  readonly parallelism?: number;
  /**
   * Worker threads that decompress, checksum and write the pages of large files (default:
   * one per core up to 4, none on a single core; 0 keeps all work on the calling thread).
   * Small files are always applied on the calling thread.
   */
  readonly workers?: number;
  /** Files at least this large (as stored) go to the worker threads (default `WORKER_FILE_BYTES`, 16 MiB). */
  readonly workerFileBytes?: number;
  /** SQLite check of the result before it takes its name (default `none`). */
  readonly integrityCheck?: IntegrityCheckMode;
  /** Replace an existing output database (and remove its `-wal`/`-shm`/`-journal`). Default false. */
  readonly overwrite?: boolean;
  readonly logger?: Logger;
  /** Called per downloaded chunk with bytes received so far and the plan's total. */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** A plan made earlier with `planRestore` (then `txid` and `timestamp` are not used). */
  readonly plan?: RestorePlan;
  /**
   * Stops the restore: downloads and applying stop, every file it wrote is removed, and the
   * promise rejects with the signal's reason. Once the result has been published (renamed
   * into place) the restore is complete and an abort no longer undoes it.
   */
  readonly signal?: AbortSignal;
}

/** What a restore did. */
export interface RestoreResult {
  /** TXID of the restored state. */
  readonly txid: number;
  /** LTX files applied. */
  readonly files: number;
  /** Bytes downloaded. */
  readonly bytes: number;
  /** Absolute path of the restored database. */
  readonly outputPath: string;
  /** When the restored state was replicated (the last file's `createdAt`). */
  readonly timestamp?: Date;
  readonly durationMs: number;
}

const DEFAULT_PARALLELISM = 8;

/** Files at least this large (as stored) are decoded on worker threads; starting them costs more than smaller files save. */
export const WORKER_FILE_BYTES = 16 * 1024 * 1024;

/**
 * Rebuilds a database from a replica. Without a `plan`, the plan comes from
 * `planReplicaRestore`, so a replica holding Litestream v0.3 generations (alone, or newer than
 * its LTX files at the target) is restored by `restoreV03`. Everything is written in a hidden work directory beside
 * the output, `.<name>.restore-<pid>-<random>` (see `RestoreWorkDir`): the database being built
 * and, from a replica not read in place, the files downloaded ahead. A replica read in place
 * (`capabilities.localReads`, the file backend) is read directly, file after file; from any
 * other, files are streamed to the work directory, up to `parallelism` at once, and applied
 * strictly in plan order as each next one completes, so applying overlaps downloading. Files
 * of `WORKER_FILE_BYTES` or more are decompressed, checksummed and written by worker threads.
 * Each file's checksums and the pre/post-apply chain are checked. The result is fsynced,
 * optionally checked by SQLite, and only then renamed into place.
 *
 * On any failure, and when `signal` aborts, the work directory is removed and no output is
 * left; the error names the failing file (`<level>/<min>-<max>.ltx`) and what failed, and a
 * local write failure (a full disk, no permission) is a `LocalWriteError` naming the path, not
 * retried. Before starting, the work directories that killed restores of the same output left
 * behind are removed (and logged); those of restores still running are kept.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const { client, signal } = options;
  const logger = options.logger ?? silentLogger;
  const parallelism = options.parallelism ?? DEFAULT_PARALLELISM;
  const mode = options.integrityCheck ?? 'none';
  const overwrite = options.overwrite ?? false;
  if (typeof options.outputPath !== 'string' || options.outputPath === '') throw new UsageError('restore needs an output path');
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new UsageError(`parallelism must be a positive integer, got ${parallelism}`);
  if (options.workers !== undefined && (!Number.isSafeInteger(options.workers) || options.workers < 0)) throw new UsageError(`workers must be a non-negative integer, got ${options.workers}`);
  if (!['none', 'quick', 'full'].includes(mode)) throw new UsageError(`integrity check must be none, quick or full, got ${String(mode)}`);
  const output = resolve(options.outputPath);
  signal?.throwIfAborted();

  await removeRestoreLeftovers(output, logger);
  // Refuse before listing or downloading anything; publishing re-checks atomically.
  await checkOutputFree(output, overwrite);
  let plan = options.plan;
  if (plan === undefined) {
    // The replica may hold Litestream v0.3 backups instead of (or besides) LTX files.
    const chosen = await planReplicaRestore(client, { txid: options.txid, timestamp: options.timestamp });
    if (chosen.format === 'v0.3') return restoreV03({ ...options, plan: chosen.plan });
    plan = chosen.plan;
  }
  if (plan.files.length === 0) throw new UsageError('restore plan has no files');
  signal?.throwIfAborted();
  logger.info('restoring', { output, txid: formatTXID(plan.txid), files: plan.files.length, bytes: plan.size, parallelism });

  const workers = options.workers ?? defaultPageWorkers();
  const workerFileBytes = options.workerFileBytes ?? WORKER_FILE_BYTES;
  const isLarge = (info: { size: number }) => workers > 0 && info.size >= workerFileBytes;
  let pool: PageWorkerPool | undefined;
  let reader: PlanReader | undefined;
  let applier: LtxApplier | undefined;
  let done = 0;
  const build = async (work: RestoreWorkDir): Promise<void> => {
    applier = new LtxApplier(work.databasePath, { target: output });
    // Started before the first file is opened, so the threads are up by the time it is read.
    pool = plan.files.some(isLarge) ? new PageWorkerPool(workers) : undefined;
    reader = createPlanReader(client, plan.files, {
      stagingDir: work.path,
      output,
      parallelism,
      signal,
      onBytes: (bytes) => {
        done += bytes;
        options.onProgress?.(done, plan.size);
      },
    });
    for (let i = 0; i < plan.files.length; i++) {
      const info = plan.files[i]!;
      signal?.throwIfAborted();
      const source = await reader.open(i);
      await applier.apply(signal ? abortable(source, signal) : source, ltxFileLabel(info), { pool: isLarge(info) ? pool : undefined });
      logger.debug('applied ltx file', { file: ltxFileLabel(info), txid: formatTXID(applier.position.txid) });
      await reader.done(i);
    }
    await applier.close({ sync: true });
    if (applier.position.txid !== plan.txid) {
      const last = ltxFileLabel(plan.files[plan.files.length - 1]!);
      throw new LitestreamError(`applying the plan reached TXID ${formatTXID(applier.position.txid)}, not the planned ${formatTXID(plan.txid)}`, { file: last });
    }
  };
  await buildAndPublish({ output, integrityCheck: mode, overwrite, signal, logger }, build, async () => {
    await reader?.abort();
    await applier?.close({ sync: false }).catch(() => {});
    await pool?.close();
  });

  const durationMs = Math.round(performance.now() - started);
  logger.info('restored', { output, txid: formatTXID(plan.txid), files: plan.files.length, bytes: plan.size, durationMs });
  return { txid: plan.txid, files: plan.files.length, bytes: plan.size, outputPath: output, timestamp: plan.timestamp, durationMs };
}

/** Passes `source` through, throwing the signal's reason at the first chunk after it aborts. */
async function* abortable(source: AsyncIterable<Uint8Array>, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    signal.throwIfAborted();
    yield chunk;
  }
}
