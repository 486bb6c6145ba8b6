import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../engine/logger.ts';
import { errorCode } from '../io/durable.ts';
import { processState } from './process-identity.ts';
import { HEARTBEAT_MS, isActiveWorkDir, OWNER_FILE, workDirPattern, type WorkDirOwner } from './work-dir.ts';

/** A work directory with no owner file yet may be one being created right now; after this long it was abandoned. */
export const UNOWNED_GRACE_MS = 60_000;
/** The owner file of a restore on another host that was not touched for this long belongs to a restore that stopped. */
export const STALE_OWNER_MS = 12 * HEARTBEAT_MS;

/** A leftover that was removed. */
export interface RemovedLeftover {
  readonly path: string;
  /** Bytes it held. */
  readonly bytes: number;
  /** Pid of the restore that left it, when its owner file said. */
  readonly pid: number | undefined;
}

/**
 * Removes what restores of `output` that were killed (SIGKILL, a crash, a power cut) left
 * beside it: their work directories (`.<name>.restore-<pid>-<random>`, see `RestoreWorkDir`).
 * Only directories with exactly that name are considered, and one is removed only when its
 * owner is known to be gone: on this host, a pid that no longer runs or is now another process
 * (different start time or boot); on another host (a shared volume), an owner file not touched
 * by its heartbeat for `STALE_OWNER_MS`; without an owner file, older than `UNOWNED_GRACE_MS`.
 * The work of a restore still running, here or elsewhere, is kept. Each removal is logged
 * with the path and size; a removal that fails is logged and does not stop the restore.
 */
export async function removeRestoreLeftovers(output: string, logger: Logger, now: number = Date.now()): Promise<RemovedLeftover[]> {
  const dir = dirname(output);
  const pattern = workDirPattern(output);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
  const removed: RemovedLeftover[] = [];
  for (const name of names) {
    if (!pattern.test(name)) continue;
    const path = join(dir, name);
    try {
      const leftover = await inspect(path, now);
      if (leftover === undefined) continue;
      if (leftover.keep) {
        logger.info('kept the files of a restore that is still running', { output, path, pid: leftover.owner?.pid, host: leftover.owner?.host, reason: leftover.keep });
        continue;
      }
      const bytes = await sizeOf(path);
      await rm(path, { recursive: true, force: true });
      removed.push({ path, bytes, pid: leftover.owner?.pid });
      logger.info('removed the files of an interrupted restore', { output, path, bytes, pid: leftover.owner?.pid, startedAt: leftover.owner?.startedAt });
    } catch (error) {
      logger.warn('cannot remove the files of an interrupted restore', { output, path, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return removed;
}

/** Whether a candidate is a leftover: undefined when it is not a work directory at all, `keep` (a reason) when its restore still runs. */
async function inspect(path: string, now: number): Promise<{ owner: WorkDirOwner | undefined; keep: string | undefined } | undefined> {
  const info = await lstat(path);
  // A symlink or a plain file with that name is not something a restore made.
  if (!info.isDirectory()) return undefined;
  if (isActiveWorkDir(path)) return { owner: undefined, keep: 'a restore of this process' };
  const ownerFile = join(path, OWNER_FILE);
  const owner = await readOwner(ownerFile);
  if (owner === undefined) {
    return { owner, keep: now - info.mtimeMs < UNOWNED_GRACE_MS ? 'no owner file yet: being created' : undefined };
  }
  switch (processState(owner)) {
    case 'alive':
      // This very process (same pid and start time) is alive, but it is not using the directory.
      if (owner.pid === process.pid) return { owner, keep: undefined };
      return { owner, keep: `process ${owner.pid} is running` };
    case 'dead':
      return { owner, keep: undefined };
    case 'unknown': {
      const touched = (await lstat(ownerFile)).mtimeMs;
      return { owner, keep: now - touched < STALE_OWNER_MS ? `a restore on host ${owner.host} updated it ${Math.round((now - touched) / 1000)}s ago` : undefined };
    }
  }
}

async function readOwner(path: string): Promise<WorkDirOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<WorkDirOwner>;
    if (!Number.isSafeInteger(value.pid) || typeof value.host !== 'string') return undefined;
    return value as WorkDirOwner;
  } catch {
    // Torn by the kill that interrupted its restore while writing it.
    return undefined;
  }
}

/** Bytes of the files directly in `dir` (a work directory has no subdirectories). */
async function sizeOf(dir: string): Promise<number> {
  let bytes = 0;
  for (const name of await readdir(dir)) {
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (info?.isFile()) bytes += info.size;
  }
  return bytes;
}
