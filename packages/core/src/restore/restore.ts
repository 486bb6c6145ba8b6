import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { silentLogger, type Logger } from '../engine/logger.ts';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import { defaultPageWorkers, PageWorkerPool } from '../ltx/page-workers.ts';
import { formatTXID } from '../ltx/txid.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import { checkIntegrity, type IntegrityCheckMode } from './integrity-check.ts';
import { LtxApplier } from './ltx-applier.ts';
import { checkOutputFree, publishDatabase, removeDatabaseFiles } from './output-file.ts';
import { createPlanReader } from './plan-reader.ts';
import { ltxFileLabel, planRestore, type RestorePlan, type RestoreTarget } from './restore-plan.ts';

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
 * Rebuilds a database from a replica. A replica read in place (`capabilities.localReads`,
 * the file backend) is read directly, file after file; from any other, files are streamed
 * to a temporary directory beside the output, up to `parallelism` at once, and applied
 * strictly in plan order as each next one completes, so applying overlaps downloading.
 * Files of `WORKER_FILE_BYTES` or more are decompressed, checksummed and written by worker
 * threads. Each file's checksums and the pre/post-apply chain are checked. The result is written to `<output>.tmp-<random>`,
 * fsynced, optionally checked by SQLite, and only then renamed into place. On any failure
 * every temporary file is removed, no output is left, and the error names the failing
 * file (`<level>/<min>-<max>.ltx`) and what failed.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const { client } = options;
  const logger = options.logger ?? silentLogger;
  const parallelism = options.parallelism ?? DEFAULT_PARALLELISM;
  const mode = options.integrityCheck ?? 'none';
  const overwrite = options.overwrite ?? false;
  if (typeof options.outputPath !== 'string' || options.outputPath === '') throw new UsageError('restore needs an output path');
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new UsageError(`parallelism must be a positive integer, got ${parallelism}`);
  if (options.workers !== undefined && (!Number.isSafeInteger(options.workers) || options.workers < 0)) throw new UsageError(`workers must be a non-negative integer, got ${options.workers}`);
  if (!['none', 'quick', 'full'].includes(mode)) throw new UsageError(`integrity check must be none, quick or full, got ${String(mode)}`);
  const output = resolve(options.outputPath);

  // Refuse before listing or downloading anything; publishing re-checks atomically.
  await checkOutputFree(output, overwrite);
  const plan = options.plan ?? (await planRestore(client, { txid: options.txid, timestamp: options.timestamp }));
  if (plan.files.length === 0) throw new UsageError('restore plan has no files');
  logger.info('restoring', { output, txid: formatTXID(plan.txid), files: plan.files.length, bytes: plan.size, parallelism });

  await mkdir(dirname(output), { recursive: true });
  const temp = `${output}.tmp-${randomBytes(6).toString('hex')}`;
  const workers = options.workers ?? defaultPageWorkers();
  const workerFileBytes = options.workerFileBytes ?? WORKER_FILE_BYTES;
  const isLarge = (info: { size: number }) => workers > 0 && info.size >= workerFileBytes;
  // Started before the first file is opened, so the threads are up by the time it is read.
  const pool = plan.files.some(isLarge) ? new PageWorkerPool(workers) : undefined;
  let done = 0;
  const applier = new LtxApplier(temp);
  let reader;
  try {
    reader = await createPlanReader(client, plan.files, output, parallelism, (bytes) => {
      done += bytes;
      options.onProgress?.(done, plan.size);
    });
  } catch (error) {
    await pool?.close();
    throw error;
  }
  try {
    for (let i = 0; i < plan.files.length; i++) {
      const info = plan.files[i]!;
      const source = await reader.open(i);
      await applier.apply(source, ltxFileLabel(info), { pool: isLarge(info) ? pool : undefined });
      logger.debug('applied ltx file', { file: ltxFileLabel(info), txid: formatTXID(applier.position.txid) });
      await reader.done(i);
    }
    await applier.close({ sync: true });
    if (applier.position.txid !== plan.txid) {
      const last = ltxFileLabel(plan.files[plan.files.length - 1]!);
      throw new LitestreamError(`applying the plan reached TXID ${formatTXID(applier.position.txid)}, not the planned ${formatTXID(plan.txid)}`, { file: last });
    }
    if (mode !== 'none') {
      await checkIntegrity(temp, mode, output);
      logger.info('integrity check passed', { output, mode });
    }
    await publishDatabase(temp, output, overwrite);
  } catch (error) {
    await reader.abort();
    await applier.close({ sync: false }).catch(() => {});
    await removeDatabaseFiles(temp);
    throw error;
  } finally {
    await pool?.close();
    await reader.close();
  }

  const durationMs = Math.round(performance.now() - started);
  logger.info('restored', { output, txid: formatTXID(plan.txid), files: plan.files.length, bytes: plan.size, durationMs });
  return { txid: plan.txid, files: plan.files.length, bytes: plan.size, outputPath: output, timestamp: plan.timestamp, durationMs };
}
