import { createHash } from 'node:crypto';
import { PreconditionFailedError, type StoredObject, type WriteCondition } from '@litestream-ts/core';
import { withSftpLock, type SftpLockOptions } from './sftp-lock.ts';
import { SFTP_NO_SUCH_FILE, hasSftpCode, type SftpOps } from './sftp-session.ts';
import { discardUpload, publishReplace, stageUpload } from './sftp-upload.ts';

/**
 * Small objects (leases) with etags and preconditions over plain SFTP.
 *
 * Every version is a new file (staged, then renamed or hard-linked into place), so an open
 * handle sees one immutable version and its fstat belongs to it. SFTP v3 exposes no inode and
 * only whole-second mtimes, so the etag hashes content, size and mtime, and every replace made
 * under the lock gets an mtime strictly after the version it replaces: a replace always changes
 * the etag, even with identical content in the same second.
 *
 * - create-only (`ifNoneMatch: '*'`): hardlink@openssh.com of the staged file, which is link(2)
 *   on the server and fails when the name exists — atomic across clients, no lock needed;
 * - `ifMatch`, unconditional writes and deletes: under `<name>.lock` (see `withSftpLock`),
 *   compare the current etag, then posix-rename or unlink.
 */
export class SftpObjects {
  private readonly lock: SftpLockOptions;

  constructor(lock: SftpLockOptions = {}) {
    this.lock = lock;
  }

  /** Reads an object and its etag; undefined when missing. */
  async read(ops: SftpOps, path: string): Promise<StoredObject | undefined> {
    let handle: Buffer;
    try {
      handle = await ops.open(path, 'r');
    } catch (error) {
      if (hasSftpCode(error, SFTP_NO_SUCH_FILE)) return undefined;
      throw error;
    }
    try {
      const attrs = await ops.fstat(handle);
      const parts: Buffer[] = [];
      let position = 0;
      for (;;) {
        const part = await ops.read(handle, 64 * 1024, position);
        if (part.length === 0) break;
        parts.push(part);
        position += part.length;
      }
      const data = Buffer.concat(parts);
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), etag: etagOf(data, attrs.mtime) };
    } finally {
      await ops.close(handle);
    }
  }

  /**
   * Writes an object if `condition` holds; rejects with `PreconditionFailedError` otherwise.
   * Once `signal` aborted, nothing is published (the caller already saw the call reject).
   */
  async write(ops: SftpOps, path: string, data: Uint8Array, condition: WriteCondition | undefined, signal?: AbortSignal): Promise<{ etag: string }> {
    const name = path.slice(path.lastIndexOf('/') + 1);
    // Stage outside the lock so the critical section is only a read, a compare and a rename.
    const staged = await stageUpload(ops, path, [data], { concurrent: false });
    try {
      if (condition !== undefined && 'ifNoneMatch' in condition) {
        signal?.throwIfAborted();
        try {
          await ops.hardlink(staged.temp, path);
        } catch (error) {
          // link(2)'s EEXIST reaches us as a generic FAILURE: look before deciding.
          if ((await ops.statIfPresent(path)) !== undefined) throw new PreconditionFailedError(name, condition);
          throw error;
        }
        return { etag: etagOf(data, staged.attrs.mtime) };
      }
      return await withSftpLock(
        ops,
        path,
        async () => {
          const current = await this.read(ops, path);
          if (condition !== undefined && (current === undefined || current.etag !== condition.ifMatch)) throw new PreconditionFailedError(name, condition);
          let mtime = staged.attrs.mtime;
          if (current !== undefined) {
            const currentMtime = (await ops.statIfPresent(path))?.mtime ?? 0;
            if (mtime <= currentMtime) {
              mtime = currentMtime + 1;
              await ops.utimes(staged.temp, mtime);
            }
          }
          signal?.throwIfAborted();
          await publishReplace(ops, staged, path);
          return { etag: etagOf(data, mtime) };
        },
        this.lock,
      );
    } finally {
      await discardUpload(ops, staged).catch(() => {});
    }
  }

  /** Deletes an object, if its etag still matches when `condition` is given. Missing is fine unconditionally. */
  async delete(ops: SftpOps, path: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const name = path.slice(path.lastIndexOf('/') + 1);
    // Checking first avoids creating a lock just to delete nothing.
    if ((await ops.statIfPresent(path)) === undefined) {
      if (condition !== undefined) throw new PreconditionFailedError(name, condition);
      return;
    }
    await withSftpLock(
      ops,
      path,
      async () => {
        if (condition !== undefined) {
          const current = await this.read(ops, path);
          if (current === undefined || current.etag !== condition.ifMatch) throw new PreconditionFailedError(name, condition);
        }
        await ops.unlinkIfPresent(path);
      },
      this.lock,
    );
  }
}

function etagOf(data: Uint8Array, mtimeSeconds: number): string {
  return createHash('sha256').update(`${mtimeSeconds}:${data.byteLength}:`).update(data).digest('hex').slice(0, 32);
}
