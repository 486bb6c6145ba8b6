import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LitestreamError } from '@litestream-ts/core';
import { SFTP_FAILURE, SFTP_NO_SUCH_FILE, hasSftpCode, type SftpOps } from './sftp-session.ts';

/** Tuning of the lock file behind compare-and-swap on one object. */
export interface SftpLockOptions {
  /** How long one lock may stay unchanged before it is presumed abandoned (default 10 s). */
  readonly staleAfterMs?: number;
  /** How long to wait for a live lock before giving up (default 20 s). */
  readonly timeoutMs?: number;
}

/** Another client held an object lock for longer than the wait allows. */
export class SftpLockTimeoutError extends LitestreamError {
  constructor(lockPath: string, waitedMs: number) {
    super(`timed out after ${waitedMs} ms waiting for the lock; if no litestream process uses this replica, delete the lock file`, { file: lockPath });
  }
}

/**
 * Runs `critical` while holding `<object>.lock`, a file created with an exclusive open
 * (SSH_FXF_CREAT|SSH_FXF_EXCL, i.e. O_EXCL on the server) that holds a random token.
 *
 * Staleness is judged by this machine's clock, not by the server's mtime (the clocks may
 * differ): a waiter that sees the same token for `staleAfterMs` breaks the lock by renaming it
 * aside and, if the file it moved carries another token (someone took a fresh lock meanwhile),
 * linking it back.
 */
export async function withSftpLock<T>(ops: SftpOps, objectPath: string, critical: () => Promise<T>, options: SftpLockOptions = {}): Promise<T> {
  const lockPath = `${objectPath}.lock`;
  const token = await acquire(ops, lockPath, options.staleAfterMs ?? 10_000, options.timeoutMs ?? 20_000);
  try {
    return await critical();
  } finally {
    await release(ops, lockPath, token);
  }
}

async function acquire(ops: SftpOps, lockPath: string, staleAfterMs: number, timeoutMs: number): Promise<string> {
  const token = randomBytes(12).toString('hex');
  const started = Date.now();
  let seen: { token: string; since: number } | undefined;
  for (let attempt = 0; ; attempt++) {
    let handle: Buffer | undefined;
    try {
      handle = await ops.open(lockPath, 'wx', 0o644);
    } catch (error) {
      // EEXIST arrives as a generic FAILURE; any other status (permission denied…) is real.
      if (!hasSftpCode(error, SFTP_FAILURE)) throw error;
    }
    if (handle !== undefined) {
      try {
        await ops.write(handle, Buffer.from(token), 0);
      } finally {
        await ops.close(handle);
      }
      return token;
    }
    // undefined: released since our open failed (or the FAILURE was not EEXIST); just try again.
    const holder = await readToken(ops, lockPath);
    const now = Date.now();
    if (holder !== undefined) {
      if (seen === undefined || seen.token !== holder) seen = { token: holder, since: now };
      else if (now - seen.since >= staleAfterMs) {
        await breakLock(ops, lockPath, holder);
        seen = undefined;
        continue;
      }
    }
    if (now - started >= timeoutMs) throw new SftpLockTimeoutError(lockPath, now - started);
    // Jittered, growing back-off: critical sections are a read, a compare and a rename.
    await sleep(Math.min(100, 5 + attempt * 5) * (0.5 + Math.random()));
  }
}

async function breakLock(ops: SftpOps, lockPath: string, staleToken: string): Promise<void> {
  const aside = `${lockPath}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await ops.posixRename(lockPath, aside);
  } catch (error) {
    if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return;
    throw error;
  }
  if ((await readToken(ops, aside)) !== staleToken) {
    // We moved a lock someone just took: put it back unless yet another one appeared.
    await ops.hardlink(aside, lockPath).catch(() => {});
  }
  await ops.unlinkIfPresent(aside);
}

async function release(ops: SftpOps, lockPath: string, token: string): Promise<void> {
  // Only remove our own lock: if ours was broken as stale, the file may be someone else's now.
  if ((await readToken(ops, lockPath)) === token) await ops.unlinkIfPresent(lockPath);
}

async function readToken(ops: SftpOps, path: string): Promise<string | undefined> {
  let handle: Buffer;
  try {
    handle = await ops.open(path, 'r');
  } catch (error) {
    if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return undefined;
    throw error;
  }
  try {
    return (await ops.read(handle, 64, 0)).toString('latin1');
  } finally {
    await ops.close(handle);
  }
}
