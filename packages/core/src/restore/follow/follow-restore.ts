import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { asLocalWriteError } from '../../io/local-write-error.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorStreak } from '../../engine/error-streak.ts';
import { silentLogger, type Logger } from '../../engine/logger.ts';
import { MAX_LEVEL } from '../../ltx/constants.ts';
import { verifyLtx } from '../../ltx/decoder.ts';
import { NotFoundError, UsageError } from '../../ltx/errors.ts';
import { errorCode } from '../../io/durable.ts';
import { formatTXID, type TXID } from '../../ltx/txid.ts';
import type { LtxFileInfo, ReplicaClient } from '../../replica/replica-client.ts';
import { downloadLtxFile } from '../download.ts';
import type { IntegrityCheckMode } from '../integrity-check.ts';
import { removeRestoreLeftovers } from '../leftovers.ts';
import { checkOutputFree } from '../output-file.ts';
import { DownloadError, NoBackupsError } from '../restore-errors.ts';
import { ltxFileLabel, planRestore } from '../restore-plan.ts';
import { restore } from '../restore.ts';
import { planReplicaRestore } from '../v03/replica-restore-plan.ts';
import { RestoreWorkDir } from '../work-dir.ts';
import { FollowOutput, type LocalLtxFile } from './follow-output.ts';
import { planFollow } from './follow-plan.ts';

/** Default time between two polls of the replica (Litestream's `-follow-interval` default). */
export const DEFAULT_FOLLOW_INTERVAL_MS = 1000;
/** Default longest wait between polls while the replica keeps failing. */
export const DEFAULT_FOLLOW_MAX_BACKOFF_MS = 30_000;
/** Polls between two listings of every level while level 0 shows nothing new. */
const FULL_LISTING_EVERY = 10;

/** What `followRestore` did to the output, reported to `onApply`. */
export interface FollowUpdate {
  /** `restored`: the output was (re)built from the replica's latest state; `applied`: files were applied in place. */
  readonly kind: 'restored' | 'applied';
  /** TXID the output was at before (undefined before the first restore). */
  readonly fromTXID: TXID | undefined;
  /** TXID the output is at now; readers see this state. */
  readonly txid: TXID;
  /** LTX files applied (or that the restore applied). */
  readonly files: number;
  /** For `applied`: the files, as `<level>/<min>-<max>.ltx`, in the order applied. */
  readonly names?: readonly string[];
  /** Why the output was restored again (a new chain, a gap, a failed apply), for `restored` after the first. */
  readonly reason?: string;
}

/** Where to follow from, to where, and how often. */
export interface FollowRestoreOptions {
  readonly client: ReplicaClient;
  /** The read replica to keep up to date. */
  readonly outputPath: string;
  /** Stops following: the promise resolves once the output is consistent and closed. */
  readonly signal?: AbortSignal;
  /** Time between polls of the replica, in ms (default 1000). */
  readonly intervalMs?: number;
  /** Longest wait between polls while the replica cannot be reached (default 30 s; the wait doubles from `intervalMs`). */
  readonly maxBackoffMs?: number;
  /**
   * Start from an existing output. One a follower wrote is updated in place (its readers stay
   * on it); anything else is replaced. Default false: an existing output is refused.
   */
  readonly overwrite?: boolean;
  /** Files downloaded at once by a restore, and files applied under one hold of the lock (default 8). */
  readonly parallelism?: number;
  /** Worker threads of each restore (see `RestoreOptions.workers`). */
  readonly workers?: number;
  /** SQLite check of each restored state before it reaches the output (default `none`). */
  readonly integrityCheck?: IntegrityCheckMode;
  readonly logger?: Logger;
  /** Called after each change of the output, once readers can see it. */
  readonly onApply?: (update: FollowUpdate) => void;
}

/** How a follow ended. */
export interface FollowResult {
  /** Absolute path of the output. */
  readonly outputPath: string;
  /** TXID the output was left at (undefined when stopped before the first restore finished; no output was made then). */
  readonly txid: TXID | undefined;
  /** LTX files applied in place. */
  readonly applied: number;
  /** Restores of the whole state, the first included. */
  readonly restores: number;
}

/**
 * Keeps `outputPath` a read replica of the replica: restores its latest state, then polls
 * every `intervalMs` and applies new LTX files as they arrive, until `signal` aborts. Other
 * processes may read the output meanwhile (read-only connections): each update is written
 * in place under SQLite's exclusive lock, and the header is rewritten as a rollback-journal
 * database whose change counter moves with every update (see `FollowOutput`), so a reader
 * sees whole transactions only and, holding the file open, sees every update.
 *
 * Each poll lists level 0 from the output's TXID on; every level is listed when level 0
 * shows a gap (its files were compacted away, so the chain continues from higher levels) and
 * every tenth poll otherwise. Every file's checksums are checked (downloaded files before
 * the lock is taken), and each file's pre-apply checksum must be the output's. When the
 * output cannot be continued file by file (the primary restarted from a new snapshot, the
 * replica was wiped and started again, or files were removed before being applied), the
 * latest state is restored beside the output and only the pages that differ are written
 * into it, under the same lock. A replica that cannot be reached is retried with a doubling
 * wait (up to `maxBackoffMs`), logged once per streak of failures; a replica without backups
 * yet is waited for. An abort stops at the next step (never in the middle of writing the
 * output): the promise resolves, the output holds the last state applied, and the work
 * directory beside it (`.<name>.restore-<pid>-<random>`, downloads and staged restores) is
 * removed. Fails at once on bad options, on an existing output without `overwrite`, and on a
 * replica that holds only Litestream v0.3 backups (which cannot be followed).
 */
export async function followRestore(options: FollowRestoreOptions): Promise<FollowResult> {
  const { client, signal } = options;
  const logger = options.logger ?? silentLogger;
  const interval = options.intervalMs ?? DEFAULT_FOLLOW_INTERVAL_MS;
  const maxBackoff = Math.max(interval, options.maxBackoffMs ?? DEFAULT_FOLLOW_MAX_BACKOFF_MS);
  const parallelism = options.parallelism ?? 8;
  if (typeof options.outputPath !== 'string' || options.outputPath === '') throw new UsageError('follow needs an output path');
  if (!Number.isFinite(interval) || interval <= 0) throw new UsageError(`follow interval must be a positive number of milliseconds, got ${interval}`);
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new UsageError(`parallelism must be a positive integer, got ${parallelism}`);
  const output = resolve(options.outputPath);
  await removeRestoreLeftovers(output, logger);
  await checkOutputFree(output, options.overwrite ?? false);
  try {
    await mkdir(dirname(output), { recursive: true });
  } catch (error) {
    throw asLocalWriteError(error, dirname(output), `create the directory of ${output}`);
  }

  const work = await RestoreWorkDir.create(output);
  let target: FollowOutput | undefined;
  let applied = 0;
  let restores = 0;
  let staging = 0;
  const streak = new ErrorStreak(logger, 'follow error', 'follow resumed');

  /** Restores the replica's latest state into a file in the work directory. */
  const stage = async (abortable: boolean): Promise<{ path: string; txid: TXID; files: number }> => {
    const plan = await planRestore(client, {}, { signal: abortable ? signal : undefined });
    const path = join(work.path, `staged-${++staging}.db`);
    const result = await restore({ client, outputPath: path, plan, parallelism, workers: options.workers, integrityCheck: options.integrityCheck, logger: logger.child({ phase: 'follow restore' }), signal: abortable ? signal : undefined });
    return { path, txid: result.txid, files: result.files };
  };
  let lastReason: string | undefined;
  const restoreAgain = async (reason: string): Promise<void> => {
    // Once per reason: a restore that keeps failing is reported by the error streak.
    if (reason !== lastReason) logger.info('follow: restoring the latest state again', { output, reason, txid: formatTXID(target!.txid) });
    lastReason = reason;
    const from = target!.txid;
    const staged = await stage(true);
    try {
      await target!.replace(staged.path, staged.txid, { signal, onWait: waiting });
    } finally {
      await rm(staged.path, { force: true });
    }
    lastReason = undefined;
    restores++;
    options.onApply?.({ kind: 'restored', fromTXID: from, txid: staged.txid, files: staged.files, reason });
  };
  const waiting = () => logger.warn('follow: readers keep the output locked; waiting to update it', { output });

  let delay = 0;
  let waitingForBackups = false;
  let fatal: Error | undefined;
  let emptied = false;
  let sinceFullListing = 0;
  try {
    while (!signal?.aborted) {
      if (delay > 0 && !(await pause(delay, signal))) break;
      try {
        if (!target) {
          let staged;
          try {
            staged = await stage(true);
          } catch (error) {
            if (!(error instanceof NoBackupsError)) throw error;
            if (!waitingForBackups) {
              fatal = await v03OnlyError(client);
              if (fatal) break;
            }
            if (!waitingForBackups) logger.warn('follow: the replica holds no backups yet; waiting for its first snapshot', { output, replica: client.type });
            waitingForBackups = true;
            streak.succeed();
            delay = interval;
            continue;
          }
          try {
            target = await FollowOutput.create(output, staged.path, staged.txid);
          } finally {
            await rm(staged.path, { force: true });
          }
          restores++;
          logger.info('following', { output, txid: formatTXID(target.txid), intervalMs: interval });
          options.onApply?.({ kind: 'restored', fromTXID: undefined, txid: target.txid, files: staged.files });
        } else if (target.broken) {
          await restoreAgain('an update failed while being written and could not be repaired; the output was emptied');
        } else {
          const pos = target.txid;
          const level0 = await list(client, 0, pos + 1, signal);
          let step = planFollow(level0, pos, target.knownTXIDs, { complete: false });
          if (step.kind !== 'apply' && (level0.some((f) => f.maxTXID > pos) || ++sinceFullListing >= FULL_LISTING_EVERY)) {
            sinceFullListing = 0;
            step = planFollow(await listAll(client, signal), pos, target.knownTXIDs, { complete: true });
          }
          // After the replica was seen empty, its files belong to a new chain, even one whose
          // TXIDs reach exactly the output's (which no listing could tell apart).
          if (emptied && step.kind !== 'empty') {
            if (step.kind === 'idle') step = planFollow(await listAll(client, signal), pos, target.knownTXIDs, { complete: true });
            if (step.kind !== 'empty') step = { kind: 'restore', reason: 'the replica was emptied and holds new files' };
          }
          if (step.kind === 'apply') {
            const more = await applyStep(step.files);
            if (more) {
              // More files are waiting than one hold applies: go on at once.
              streak.succeed();
              delay = 0;
              continue;
            }
          } else if (step.kind === 'restore') {
            await restoreAgain(step.reason);
          } else if (step.kind === 'empty' && !emptied) {
            logger.warn('follow: the replica holds no LTX files (wiped?); keeping the output as it is until it holds some', { output, txid: formatTXID(pos) });
          }
          emptied = step.kind === 'empty';
        }
        streak.succeed();
        delay = interval;
      } catch (error) {
        if (signal?.aborted) break;
        streak.fail(error, { output });
        delay = Math.min(maxBackoff, Math.max(interval, delay * 2));
      }
    }
  } finally {
    await target?.close().catch((error: unknown) => logger.warn('follow: cannot close the output', { output, error: (error as Error).message }));
    await work.remove().catch((error: unknown) => logger.warn('follow: cannot remove the work directory', { output, path: work.path, error: (error as Error).message }));
  }
  if (fatal) throw fatal;
  logger.info('follow stopped', { output, txid: target ? formatTXID(target.txid) : 'none', applied, restores });
  return { outputPath: output, txid: target?.txid, applied, restores };

  /**
   * Applies the first files of `files` (up to `parallelism`, under one hold of the lock) and
   * returns true when more are left.
   */
  async function applyStep(files: readonly LtxFileInfo[]): Promise<boolean> {
    const batch = files.slice(0, parallelism);
    let locals: FetchedFile[];
    try {
      locals = await fetchAll(batch);
    } catch (error) {
      if (!isGone(error)) throw error;
      // Compaction or retention removed a file between the listing and the read: not an
      // error. The next poll lists every level (level 0 then shows a gap) and goes on from there.
      logger.debug('follow: a listed file is gone; listing again', { output, error: (error as Error).message });
      sinceFullListing = FULL_LISTING_EVERY;
      return false;
    }
    const from = target!.txid;
    try {
      const result = await target!.apply(
        locals,
        async (error) => {
          logger.error('follow: applying a file failed after writing began; restoring the latest state while readers wait', { output, error: (error as Error).message });
          // Not abortable: the output must be whole before the lock is released.
          const staged = await stage(false);
          try {
            await target!.replace(staged.path, staged.txid, { lockHeld: true });
          } finally {
            await rm(staged.path, { force: true });
          }
          restores++;
          options.onApply?.({ kind: 'restored', fromTXID: from, txid: staged.txid, files: staged.files, reason: (error as Error).message });
        },
        { signal, onWait: waiting },
      );
      const names = locals.slice(0, result.applied).map((f) => f.label);
      if (result.refused) {
        if (result.applied > 0) report(from, names);
        await restoreAgain(result.refused.message);
        return false;
      }
      if (result.applied > 0 && !result.repaired) report(from, names);
    } finally {
      await release(locals);
    }
    return files.length > batch.length;
  }

  function report(from: TXID, names: readonly string[]): void {
    applied += names.length;
    logger.debug('follow: applied', { output, fromTXID: formatTXID(from), txid: formatTXID(target!.txid), files: names.join(' ') });
    options.onApply?.({ kind: 'applied', fromTXID: from, txid: target!.txid, files: names.length, names });
  }

  /**
   * Each file opened locally: in place on a replica read locally, else downloaded into the
   * work directory; every one verified whole before the lock is taken, so a damaged file never
   * starts writing the output. The caller closes them (and removes the downloads).
   */
  async function fetchAll(files: readonly LtxFileInfo[]): Promise<FetchedFile[]> {
    const fetched: FetchedFile[] = [];
    try {
      await Promise.all(
        files.map(async (info, i) => {
          const label = ltxFileLabel(info);
          let path = client.localLtxPath(info);
          const downloaded = path === undefined;
          if (path === undefined) {
            path = join(work.path, `follow-${i}-${info.level}-${info.minTXID}-${info.maxTXID}.ltx`);
            await downloadLtxFile(client, info, path, { signal, stagingFor: output });
          }
          const fh = await open(path, 'r');
          fetched[i] = { fh, label, path, downloaded };
        }),
      );
      for (const f of fetched) await verifyLtx(f.fh.createReadStream({ autoClose: false, start: 0 }), { file: f.label });
      return fetched;
    } catch (error) {
      await release(fetched);
      throw error;
    }
  }
}

/** True for a listed file that no longer exists (removed by compaction or retention since). */
function isGone(error: unknown): boolean {
  if (errorCode(error) === 'ENOENT') return true;
  return error instanceof DownloadError && error.cause instanceof NotFoundError;
}

/** A file `fetchAll` opened, and where it came from. */
interface FetchedFile extends LocalLtxFile {
  readonly path: string;
  readonly downloaded: boolean;
}

async function release(files: readonly (FetchedFile | undefined)[]): Promise<void> {
  await Promise.all(
    files.map(async (f) => {
      if (!f) return;
      await f.fh.close().catch(() => {});
      if (f.downloaded) await rm(f.path, { force: true });
    }),
  );
}

/**
 * The error when the replica holds Litestream v0.3 generations but no LTX file: those cannot be
 * followed (as in Litestream v0.5), and waiting for LTX files that may never come would hide it.
 */
async function v03OnlyError(client: ReplicaClient): Promise<UsageError | undefined> {
  if (client.capabilities.rawObjectReads !== true) return undefined;
  let chosen;
  try {
    chosen = await planReplicaRestore(client, {});
  } catch {
    return undefined;
  }
  if (chosen.format !== 'v0.3') return undefined;
  return new UsageError(`the ${client.type} replica holds only Litestream v0.3 backups (generation ${chosen.plan.generation}), which follow mode cannot apply: restore without -f, or replicate to it with litestream-ts first`);
}

/** Waits `ms`; false when `signal` aborted first. */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

async function list(client: ReplicaClient, level: number, seek: TXID | undefined, signal: AbortSignal | undefined): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const info of client.listLtxFiles(level, { seek, signal })) files.push(info);
  return files;
}

async function listAll(client: ReplicaClient, signal: AbortSignal | undefined): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for (let level = 0; level <= MAX_LEVEL; level++) files.push(...(await list(client, level, undefined, signal)));
  return files;
}
