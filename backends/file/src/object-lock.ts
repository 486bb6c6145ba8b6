import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LitestreamError, isErrorCode } from '@litestream-ts/core';
import { removeIfPresent } from './durable-file.ts';

/**
 * A lock file (`<object>.lock`, created with O_EXCL) that serialises compare-and-swap on one
 * object across processes. The critical section only compares an etag and renames a file, so
 * a lock older than `staleAfterMs` belongs to a process that died inside it and is broken.
 */
export interface ObjectLockOptions {
  /** Age after which a lock is presumed abandoned (default 5 s). */
  readonly staleAfterMs?: number;
  /** How long to wait for a live lock before giving up (default 15 s). */
  readonly timeoutMs?: number;
}

/** Another process held an object lock for longer than the wait allows. */
export class ObjectLockTimeoutError extends LitestreamError {
  constructor(lockPath: string, waitedMs: number) {
    super(`timed out after ${waitedMs} ms waiting for the lock; if no litestream process is running, delete the lock file`, { file: lockPath });
  }
}

const DEFAULT_STALE_AFTER_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 15_000;

/** Runs `critical` while holding the lock for `objectPath`. */
export async function withObjectLock<T>(objectPath: string, critical: () => Promise<T>, options: ObjectLockOptions = {}): Promise<T> {
  const lockPath = `${objectPath}.lock`;
  const ino = await acquire(lockPath, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  try {
    return await critical();
  } finally {
    await release(lockPath, ino);
  }
}

async function acquire(lockPath: string, staleAfterMs: number, timeoutMs: number): Promise<bigint> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
        return (await handle.stat({ bigint: true })).ino;
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (!isErrorCode(error, 'EEXIST')) throw error;
    }
    if (await breakIfStale(lockPath, staleAfterMs)) continue;
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new ObjectLockTimeoutError(lockPath, waited);
    // Jittered, growing back-off: contention is short, so start at a few milliseconds.
    await sleep(Math.min(50, 2 + attempt * 2) * (0.5 + Math.random()));
  }
}

/**
 * Removes a lock older than `staleAfterMs`. It is first renamed aside and its inode checked,
 * so a waiter that lost the race to break it cannot delete the fresh lock of the winner.
 */
async function breakIfStale(lockPath: string, staleAfterMs: number): Promise<boolean> {
  let seen;
  try {
    seen = await stat(lockPath, { bigint: true });
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return true;
    throw error;
  }
  if (Date.now() - Number(seen.mtimeMs) < staleAfterMs) return false;
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return true;
    throw error;
  }
  const moved = await stat(aside, { bigint: true });
  if (moved.ino !== seen.ino) {
    // We moved a lock someone just took: put it back unless yet another one appeared.
    await link(aside, lockPath).catch((error: unknown) => {
      if (!isErrorCode(error, 'EEXIST')) throw error;
    });
  }
  await unlink(aside);
  return true;
}

async function release(lockPath: string, ino: bigint): Promise<void> {
  try {
    // Only remove our own lock: if ours was broken as stale, the file may be someone else's now.
    if ((await stat(lockPath, { bigint: true })).ino !== ino) return;
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return;
    throw error;
  }
  await removeIfPresent(lockPath);
}
