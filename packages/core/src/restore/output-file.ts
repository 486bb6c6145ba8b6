import { link, lstat, rename, rm, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errorCode, syncDirectory } from '../io/durable.ts';
import { OutputExistsError } from './restore-errors.ts';

/**
 * Files SQLite keeps beside a database. A stale `-wal` or `-journal` next to a freshly
 * restored database would be replayed into it on the next open, so they count as part of
 * the output: they block a restore unless overwriting, and overwriting removes them.
 */
const SIDECARS = ['-wal', '-shm', '-journal'] as const;

/** Throws `OutputExistsError` when `path` or one of its sidecar files exists and `overwrite` is off. */
export async function checkOutputFree(path: string, overwrite: boolean): Promise<void> {
  if (overwrite) return;
  if (await exists(path)) throw new OutputExistsError(path, 'output database');
  for (const suffix of SIDECARS) {
    if (await exists(path + suffix)) throw new OutputExistsError(path + suffix, `a ${suffix} file left from an earlier database at ${path}`);
  }
}

/**
 * Gives a finished, fsynced temp database its real name and fsyncs the directory.
 * Without `overwrite` a hard link publishes it, which fails if the name was taken in the
 * meantime (atomic, even against another process); with it, stale sidecars go first and
 * a rename replaces whatever is there.
 */
export async function publishDatabase(temp: string, path: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await Promise.all(SIDECARS.map((suffix) => rm(path + suffix, { force: true })));
    await rename(temp, path);
  } else {
    try {
      await link(temp, path);
      await unlink(temp);
    } catch (error) {
      if (errorCode(error) === 'EEXIST') throw new OutputExistsError(path, 'output database');
      // Some file systems (FAT, some network mounts) have no hard links: check, then rename.
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(errorCode(error) ?? '')) throw error;
      await checkOutputFree(path, false);
      await rename(temp, path);
    }
  }
  await syncDirectory(dirname(path));
}

async function exists(path: string): Promise<boolean> {
  try {
    // lstat: a dangling symlink is still a name a rename would clobber.
    await lstat(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}
