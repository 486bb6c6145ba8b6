import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { PreconditionFailedError, isErrorCode, syncDirectory, type StoredObject, type WriteCondition } from '@litestream-ts/core';
import { discardStaged, publishStaged, removeIfPresent, stageFile } from './durable-file.ts';
import { withObjectLock, type ObjectLockOptions } from './object-lock.ts';

/**
 * Small objects (leases) with etags and preconditions, stored as plain files.
 *
 * Every version is a new inode (written to a temp file, then renamed or linked into place),
 * and the etag hashes the content with the inode's identity and mtime, so it changes on every
 * replace even when the content does not. Create-only writes rely on link(2) failing with
 * EEXIST; compare-and-swap and conditional deletes hold the object's lock file.
 */

/** Reads an object and its etag; undefined when the file does not exist. */
export async function readObjectFile(path: string): Promise<StoredObject | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    // Content and stats come from the same descriptor, hence from the same immutable version.
    const stats = await handle.stat({ bigint: true });
    const buffer = await handle.readFile();
    const data = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    return { data, etag: etagOf(data, stats) };
  } finally {
    await handle.close();
  }
}

/** Writes an object if `condition` holds; rejects with `PreconditionFailedError` otherwise. */
export async function writeObjectFile(path: string, data: Uint8Array, condition: WriteCondition | undefined, lock: ObjectLockOptions = {}): Promise<{ etag: string }> {
  // Stage outside the lock so the critical section is only a compare and a rename.
  const staged = await stageFile(path, [data]);
  try {
    if (condition !== undefined && 'ifNoneMatch' in condition) {
      try {
        await publishStaged(staged, 'create');
      } catch (error) {
        if (isErrorCode(error, 'EEXIST')) throw new PreconditionFailedError(basename(path), condition);
        throw error;
      }
    } else {
      await withObjectLock(path, async () => {
        if (condition !== undefined) await assertCurrentEtag(path, condition);
        await publishStaged(staged, 'replace');
      }, lock);
    }
    return { etag: etagOf(data, staged.stats) };
  } finally {
    await discardStaged(staged);
  }
}

/** Deletes an object, if its etag still matches when `condition` is given. Missing is fine unconditionally. */
export async function deleteObjectFile(path: string, condition: { ifMatch: string } | undefined, lock: ObjectLockOptions = {}): Promise<void> {
  // Checking first avoids creating a lock (or its directory) just to delete nothing.
  const current = await readObjectFile(path);
  if (current === undefined) {
    if (condition !== undefined) throw new PreconditionFailedError(basename(path), condition);
    return;
  }
  await withObjectLock(path, async () => {
    if (condition !== undefined) await assertCurrentEtag(path, condition);
    if (await removeIfPresent(path)) await syncDirectory(dirname(path));
  }, lock);
}

async function assertCurrentEtag(path: string, condition: { ifMatch: string }): Promise<void> {
  const current = await readObjectFile(path);
  if (current === undefined || current.etag !== condition.ifMatch) throw new PreconditionFailedError(basename(path), condition);
}

function etagOf(data: Uint8Array, stats: BigIntStats): string {
  return createHash('sha256')
    .update(`${stats.dev}:${stats.ino}:${stats.mtimeNs}:${stats.size}:`)
    .update(data)
    .digest('hex')
    .slice(0, 32);
}
