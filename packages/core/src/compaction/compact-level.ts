import { silentLogger, type LogFields, type Logger } from '../engine/logger.ts';
import { compactLtx, type CompactionInput } from '../ltx/compactor.ts';
import { UsageError } from '../ltx/errors.ts';
import { formatLtxFilename, formatTXID, type TXID } from '../ltx/txid.ts';
import { corruptInput } from '../replica/corrupt-replica-file.ts';
import type { LtxFileInfo, LtxFileRef, ReplicaClient } from '../replica/replica-client.ts';
import { MAX_COMPACTION_LEVEL } from './compaction-level.ts';
import { selectCompactionRun, type TxidRange } from './compaction-run.ts';
import { uploadLtx } from './ltx-upload.ts';
import { readLtxResumably } from './resumable-read.ts';

export interface CompactLevelOptions {
  readonly logger?: Logger;
  /** Clock for the duration reported in the log (default: the system clock). */
  readonly now?: () => Date;
  /** Abandons the compaction: every storage call stops, and nothing is stored. */
  readonly signal?: AbortSignal;
}

/**
 * Merges the files of level `dstLevel - 1` that reach past the end of `dstLevel` into one
 * new file at `dstLevel`, named after the merged run's TXID range. The bytes stream from
 * the replica through `compactLtx` (which verifies every input and the checksum chain)
 * back into the replica; no file is held in memory. The stored timestamp is the output's
 * header timestamp, that of the last input.
 *
 * A hole in the source level ends the run before it (logged as a warning naming the
 * missing TXIDs); the files after it are merged by a later call.
 *
 * An input that fails verification rejects with `CorruptReplicaFileError` naming it.
 *
 * @returns the file written, or undefined when the source level holds nothing new.
 */
export async function compactLevel(client: ReplicaClient, dstLevel: number, options: CompactLevelOptions = {}): Promise<LtxFileInfo | undefined> {
  if (!Number.isInteger(dstLevel) || dstLevel < 1 || dstLevel > MAX_COMPACTION_LEVEL) {
    throw new UsageError(`compaction destination must be a level from 1 to ${MAX_COMPACTION_LEVEL}, got ${dstLevel}`);
  }
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const srcLevel = dstLevel - 1;
  const started = now().getTime();

  const signal = options.signal;
  const dstEnd = await levelEnd(client, dstLevel, { signal });
  // The whole source level is listed, not just from dstEnd+1: a file that starts before the
  // destination's end but reaches past it (possible after retention) must not be missed.
  const source: LtxFileInfo[] = [];
  for await (const info of client.listLtxFiles(srcLevel, { signal })) source.push(info);
  const run = selectCompactionRun(source, dstEnd);
  if (run.gapBefore) warnGap(logger, srcLevel, run.gapBefore, { reason: 'the source resumes after the destination ends', destinationEnd: formatTXID(dstEnd) });
  const first = run.files[0];
  const last = run.files[run.files.length - 1];
  if (!first || !last) return undefined;
  if (run.gapAfter) warnGap(logger, srcLevel, run.gapAfter, { reason: 'compacting only up to the hole', compactingThrough: formatTXID(last.maxTXID) });

  const ref: LtxFileRef = { level: dstLevel, minTXID: first.minTXID, maxTXID: last.maxTXID };
  const file = describe(ref);
  const inputs: Array<CompactionInput & { ref: LtxFileRef }> = run.files.map((info) => ({ name: describe(info), ref: info, source: openLazily(client, info, { signal }) }));
  const { written, produced } = await uploadLtx(client, ref, (sink) => compactLtx(inputs, sink, { file }), { file, signal }).catch((err: unknown) => {
    // A damaged input is reported as such, naming the replica file, so the engine can repair it.
    throw corruptInput(client, err, inputs) ?? err;
  });

  const result: LtxFileInfo = { ...ref, size: written.size, createdAt: written.createdAt };
  logger.info('compaction completed', {
    level: dstLevel,
    minTXID: formatTXID(ref.minTXID),
    maxTXID: formatTXID(ref.maxTXID),
    files: run.files.length,
    pages: produced.pageCount,
    size: written.size,
    durationMs: now().getTime() - started,
  });
  return result;
}

/** The highest maxTXID held by a level, 0 when it is empty. */
export async function levelEnd(client: ReplicaClient, level: number, options: { signal?: AbortSignal } = {}): Promise<TXID> {
  let end = 0;
  for await (const info of client.listLtxFiles(level, { signal: options.signal })) if (info.maxTXID > end) end = info.maxTXID;
  return end;
}

/**
 * Opens the file only when the compactor first reads it and closes it when reading stops
 * early; a read that breaks midway resumes where it stopped (see `readLtxResumably`).
 */
export function openLazily(client: ReplicaClient, ref: LtxFileRef & { readonly size?: number }, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
  return readLtxResumably(client, ref, options.signal ? { signal: options.signal } : {});
}

function describe(ref: LtxFileRef): string {
  return `level ${ref.level} ${formatLtxFilename(ref.minTXID, ref.maxTXID)}`;
}

function warnGap(logger: Logger, level: number, gap: TxidRange, fields: LogFields): void {
  logger.warn('compaction source gap', { level, missing: `${formatTXID(gap.minTXID)}-${formatTXID(gap.maxTXID)}`, ...fields });
}
