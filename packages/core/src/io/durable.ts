import { open } from 'node:fs/promises';

/**
 * Makes a directory entry change (create, rename, unlink) durable. Windows cannot open a
 * directory for fsync (its file system journals metadata anyway), and a few file systems
 * refuse it; those are skipped rather than failing the write.
 */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!['EISDIR', 'EPERM', 'EINVAL', 'ENOTSUP'].includes(errorCode(error) ?? '')) throw error;
  } finally {
    await handle?.close();
  }
}

/** Flushes a file's data to disk (through a read-only descriptor, which fsync accepts). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The `code` of a Node system error, if it is one. */
export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** True when `error` is a Node system error with this `code`. */
export function isErrorCode(error: unknown, code: string): boolean {
  return errorCode(error) === code;
}
