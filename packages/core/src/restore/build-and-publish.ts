import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../engine/logger.ts';
import { asLocalWriteError } from '../io/local-write-error.ts';
import { checkIntegrity, type IntegrityCheckMode } from './integrity-check.ts';
import { publishDatabase } from './output-file.ts';
import { RestoreWorkDir } from './work-dir.ts';

/** Where a restore's result goes and how it is checked first. */
export interface PublishOptions {
  /** Absolute path of the database to create. */
  readonly output: string;
  readonly integrityCheck: IntegrityCheckMode;
  /** Replace an existing output database (and its `-wal`/`-shm`/`-journal`). */
  readonly overwrite: boolean;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
}

/**
 * What every restore (LTX or Litestream v0.3) does around building the database: creates the
 * output's directory and a work directory beside the output (`RestoreWorkDir`), runs `build`,
 * which writes and fsyncs `work.databasePath`, runs SQLite's integrity check when asked, and
 * only then gives the result the output's name. Whatever happens, `release` then stops all
 * that may still write into the work directory (transfers, workers, open files), and the
 * directory is removed, so a failed or aborted restore leaves no output. When `signal` aborts
 * before the result is published, the promise rejects with the signal's reason.
 */
export async function buildAndPublish(options: PublishOptions, build: (work: RestoreWorkDir) => Promise<void>, release: () => Promise<void>): Promise<void> {
  const { output, signal, logger } = options;
  try {
    await mkdir(dirname(output), { recursive: true });
  } catch (error) {
    throw asLocalWriteError(error, dirname(output), `create the directory of ${output}`);
  }
  const work = await RestoreWorkDir.create(output);
  let aborted = false;
  try {
    await build(work);
    if (options.integrityCheck !== 'none') {
      await checkIntegrity(work.databasePath, options.integrityCheck, output);
      logger.info('integrity check passed', { output, mode: options.integrityCheck });
    }
    // The last moment an abort can stop the restore: after this the result is in place.
    signal?.throwIfAborted();
    try {
      await publishDatabase(work.databasePath, output, options.overwrite);
    } catch (error) {
      throw asLocalWriteError(error, output, 'create the restored database');
    }
  } catch (error) {
    // An abort surfaces as whatever step it interrupted; the caller gets the signal's reason.
    aborted = signal?.aborted ?? false;
    throw aborted ? signal!.reason : error;
  } finally {
    // Nothing may still write into the work directory when it is removed.
    await release();
    await work.remove().catch((error: unknown) => logger.warn('cannot remove the work directory of the restore', { output, path: work.path, error: (error as Error).message }));
    if (aborted) logger.info('restore aborted; its partial files were removed', { output, path: work.path });
  }
}
