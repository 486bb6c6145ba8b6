import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UsageError, isErrorCode, syncDirectory } from '@litestream-ts/core';

/**
 * Crash-safe file replacement: bytes go to a temp file beside the target, are fsynced,
 * and only then appear under the real name (rename, or link for create-only), after
 * which the directory is fsynced too. A crash leaves either the old file, the new file,
 * or a stray temp file that listings ignore — never a half-written file under a real name.
 */

/** Chunks of bytes to write, produced lazily or all at hand. */
export type ByteChunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** How a staged file takes its real name. */
export type PublishMode = 'replace' | 'create';

/** A complete, fsynced temp file waiting to be published under `path`. */
export interface StagedFile {
  readonly path: string;
  readonly temp: string;
  readonly size: number;
  /** Stats of the temp inode; publishing keeps its inode, size and mtime. */
  readonly stats: BigIntStats;
}

// Coalescing small chunks keeps the syscall count sane when a producer writes frame by frame.
const WRITE_BUFFER_SIZE = 1 << 20;
const DIRECT_WRITE_SIZE = 16 << 10;

/**
 * Streams `data` into a temp file beside `path` and fsyncs it, stamping `mtime` when given.
 * Nothing is visible under `path` yet; on failure the temp file is already gone.
 */
export async function stageFile(path: string, data: ByteChunks, mtime?: Date): Promise<StagedFile> {
  await makeDirectoryDurably(dirname(path));
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx');
  try {
    const size = await copyInto(handle, data);
    if (mtime) await handle.utimes(mtime, mtime);
    await handle.sync();
    const stats = await handle.stat({ bigint: true });
    await handle.close();
    return { path, temp, size, stats };
  } catch (error) {
    await handle.close().catch(() => {});
    await removeIfPresent(temp).catch(() => {});
    throw error;
  }
}

/**
 * Gives a staged file its real name and fsyncs the directory. `replace` renames over any
 * existing file; `create` links instead, so it fails with EEXIST when the name is taken,
 * atomically even against other processes.
 */
export async function publishStaged(staged: StagedFile, mode: PublishMode): Promise<void> {
  if (mode === 'create') {
    await link(staged.temp, staged.path);
    await unlink(staged.temp);
  } else {
    await rename(staged.temp, staged.path);
  }
  await syncDirectory(dirname(staged.path));
}

/** Removes a staged temp file that was not (or only partly) published. */
export async function discardStaged(staged: StagedFile): Promise<void> {
  await removeIfPresent(staged.temp).catch(() => {});
}

/** Stages and publishes in one step: the whole new file appears under `path`, or nothing changes. */
export async function writeFileDurably(path: string, data: ByteChunks, mtime?: Date): Promise<StagedFile> {
  const staged = await stageFile(path, data, mtime);
  try {
    await publishStaged(staged, 'replace');
    return staged;
  } catch (error) {
    await discardStaged(staged);
    throw error;
  }
}

/**
 * A unique hidden name beside `path`. The leading dot and the `.tmp` suffix keep it from
 * ever parsing as an LTX file name or colliding with a real one.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Deletes a file; a missing file is not an error. */
export async function removeIfPresent(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isErrorCode(error, 'ENOENT')) return false;
    throw error;
  }
}

/** `mkdir -p`, then fsyncs the parents of every directory it created so they survive a crash. */
export async function makeDirectoryDurably(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  const top = dirname(firstCreated);
  for (let parent = dirname(dir); ; parent = dirname(parent)) {
    await syncDirectory(parent);
    if (parent === top || parent === dirname(parent)) break;
  }
}

async function copyInto(handle: FileHandle, data: ByteChunks): Promise<number> {
  // Allocated for the first small chunk only: chunks of DIRECT_WRITE_SIZE or more are written as
  // they come (a whole small L0 file from memory, a snapshot's 1 MiB chunks) without a copy.
  let buffer: Buffer | undefined;
  let filled = 0;
  let size = 0;
  for await (const chunk of data) {
    if (!(chunk instanceof Uint8Array)) throw new UsageError(`LTX data must be a stream of bytes, got a chunk of type ${typeof chunk}`);
    size += chunk.byteLength;
    let at = 0;
    if (filled === 0 && chunk.byteLength >= DIRECT_WRITE_SIZE) {
      await writeFully(handle, chunk);
      continue;
    }
    buffer ??= Buffer.allocUnsafe(WRITE_BUFFER_SIZE);
    while (at < chunk.byteLength) {
      const n = Math.min(WRITE_BUFFER_SIZE - filled, chunk.byteLength - at);
      buffer.set(chunk.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (filled === WRITE_BUFFER_SIZE) {
        await writeFully(handle, buffer);
        filled = 0;
      }
    }
  }
  if (filled > 0) await writeFully(handle, buffer!.subarray(0, filled));
  return size;
}

async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.byteLength; ) {
    const { bytesWritten } = await handle.write(bytes, at, bytes.byteLength - at, null);
    at += bytesWritten;
  }
}
