import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { silentLogger } from '../engine/logger.ts';
import { restore, type RestoreOptions, type RestoreResult } from './restore.ts';
import { NoBackupsError, OutputExistsError } from './restore-errors.ts';

/**
 * Restores only when there is nothing to keep: resolves to undefined without touching
 * anything when the output database exists, and when the replica holds no backups at all
 * (a fresh deployment: the database will be created and replicated from scratch). Every
 * other failure (a gap, a corrupt file, an unreachable store) rejects as `restore` does.
 * `overwrite` is ignored: a database that appears meanwhile is kept, never replaced.
 */
export async function restoreIfNotExists(options: RestoreOptions): Promise<RestoreResult | undefined> {
  const logger = options.logger ?? silentLogger;
  const output = resolve(options.outputPath);
  if (await exists(output)) {
    logger.info('database already exists, skipping restore', { output });
    return undefined;
  }
  try {
    return await restore({ ...options, overwrite: false });
  } catch (error) {
    if (error instanceof NoBackupsError) {
      logger.info('no backups found, skipping restore', { output, replica: options.client.type });
      return undefined;
    }
    // Someone else created the database while we restored: it exists now, which is all we promise.
    if (error instanceof OutputExistsError && error.file === output) {
      logger.info('database already exists, skipping restore', { output });
      return undefined;
    }
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
