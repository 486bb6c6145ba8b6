import { randomBytes } from 'node:crypto';
import { SFTP_NO_SUCH_FILE, hasSftpCode, type SftpAttrs, type SftpOps } from './sftp-session.ts';

/** A complete temp file beside its target, not yet visible under the real name. */
export interface StagedUpload {
  readonly temp: string;
  readonly size: number;
  /** Attributes of the temp file after the last write (server clock, whole seconds). */
  readonly attrs: SftpAttrs;
}

export interface StageOptions {
  /** Keep several write requests in flight (Litestream's `concurrent-writes`). */
  readonly concurrent: boolean;
  /** Whole seconds since the epoch to stamp as mtime. */
  readonly mtimeSeconds?: number;
}

// Below OpenSSH's 256 KiB packet limit, so ssh2 never splits (and serialises) a request itself.
const PIECE = 128 * 1024;
// Bytes in flight with concurrent writes: enough to fill a long fat pipe, bounded in memory.
const WINDOW_BYTES = 8 * 1024 * 1024;

/**
 * A unique hidden name beside `path`: the leading dot and `.tmp` suffix keep it from ever parsing
 * as an LTX file name, and the random part keeps concurrent writers apart.
 */
export function tempPathFor(path: string): string {
  const slash = path.lastIndexOf('/');
  return `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Streams `data` into a fresh temp file beside `path` (exclusive create), stamps the mtime,
 * asks the server to fsync (fsync@openssh.com, when offered) and closes it. On failure the temp
 * file is removed and the error rethrown; `path` itself is never touched.
 */
export async function stageUpload(ops: SftpOps, path: string, data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: StageOptions): Promise<StagedUpload> {
  const temp = tempPathFor(path);
  const handle = await ops.open(temp, 'wx', 0o644);
  try {
    const size = await writeAll(ops, handle, data, options.concurrent);
    if (options.mtimeSeconds !== undefined) await ops.futimes(handle, options.mtimeSeconds);
    await ops.fsync(handle).catch(() => {}); // not every server offers the extension
    const attrs = await ops.fstat(handle);
    await ops.close(handle);
    return { temp, size, attrs };
  } catch (error) {
    await ops.close(handle).catch(() => {});
    await ops.unlinkIfPresent(temp).catch(() => {});
    throw error;
  }
}

/**
 * Discards a staged file and throws the abort reason when its call was abandoned meanwhile.
 * Core rejects an abandoned call at once, but staging goes on until its current request is
 * answered: checked just before publishing, a write that rejected never appears afterwards.
 */
export async function discardIfAbandoned(ops: SftpOps, staged: StagedUpload, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted !== true) return;
  await discardUpload(ops, staged).catch(() => {});
  throw signal.reason;
}

/** Moves a staged file over `path` atomically (posix-rename@openssh.com), removing it on failure. */
export async function publishReplace(ops: SftpOps, staged: StagedUpload, path: string): Promise<void> {
  try {
    await ops.posixRename(staged.temp, path);
  } catch (error) {
    await ops.unlinkIfPresent(staged.temp).catch(() => {});
    throw error;
  }
}

/** Removes a staged file that was not published; a missing one is fine. */
export async function discardUpload(ops: SftpOps, staged: StagedUpload): Promise<void> {
  await ops.unlinkIfPresent(staged.temp).catch((error: unknown) => {
    if (!hasSftpCode(error, SFTP_NO_SUCH_FILE)) throw error;
  });
}

async function writeAll(ops: SftpOps, handle: Buffer, data: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, concurrent: boolean): Promise<number> {
  let position = 0;
  const pending = new Set<Promise<void>>();
  let inFlight = 0;
  let failure: { error: unknown } | undefined;
  try {
  for await (const chunk of data) {
    for (let at = 0; at < chunk.byteLength; at += PIECE) {
      const piece = chunk.subarray(at, Math.min(at + PIECE, chunk.byteLength));
      const write = ops.write(handle, piece, position);
      position += piece.byteLength;
      if (!concurrent) {
        await write;
        continue;
      }
      inFlight += piece.byteLength;
      const tracked: Promise<void> = write.then(
        () => {
          inFlight -= piece.byteLength;
          pending.delete(tracked);
        },
        (error: unknown) => {
          failure ??= { error };
          pending.delete(tracked);
        },
      );
      pending.add(tracked);
      while (inFlight >= WINDOW_BYTES && failure === undefined) await Promise.race(pending);
      if (failure !== undefined) break;
    }
    if (failure !== undefined) break;
  }
  } finally {
    // Even when the source fails, let issued writes settle before the handle is closed.
    await Promise.allSettled(pending);
  }
  if (failure !== undefined) throw failure.error;
  return position;
}
