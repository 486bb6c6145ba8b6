import { ChecksumMismatchError } from '../ltx/errors.ts';
import { hasNoChecksum } from '../ltx/header.ts';
import { CorruptReplicaFileError, verifyReplicaFile } from '../replica/corrupt-replica-file.ts';
import type { LtxFileInfo, ReplicaClient } from '../replica/replica-client.ts';
import { planRestore } from '../restore/restore-plan.ts';
import { silentLogger, type Logger } from './logger.ts';

/** Bytes one validation run reads at most (at least one file is always read). */
export const DEFAULT_VALIDATION_BYTES = 256 << 20;

export interface ReplicaValidatorOptions {
  /** Bytes one run downloads at most (default 256 MiB); one file is read whatever its size. */
  readonly maxBytes?: number;
  readonly logger?: Logger;
}

/** What one validation run did. */
export interface ReplicaValidationResult {
  /** Files read and verified in this run. */
  readonly checked: number;
  readonly bytes: number;
  /** Files of the restore plan left for the next run (over the byte budget). */
  readonly remaining: number;
}

interface Verified {
  readonly preApplyChecksum: bigint;
  readonly postApplyChecksum: bigint;
  readonly noChecksum: boolean;
}

/**
 * Re-reads what the replica holds for a restore of its latest state: the files `planRestore`
 * chooses, each downloaded and verified once (format, page and file checksums), and each
 * checked to continue from the one before it (pre-apply against post-apply checksum), which
 * is what a restore would trip over. Files verified by an earlier run are not read again, so
 * a run costs what was uploaded or compacted since, up to `maxBytes`; the rest waits for the
 * next run. Rejects with `CorruptReplicaFileError` naming the first bad file.
 */
export class ReplicaValidator {
  private readonly client: ReplicaClient;
  private readonly maxBytes: number;
  private readonly logger: Logger;
  /** Plan files already verified, by level, range, size and time (a rewritten file differs). */
  private verified = new Map<string, Verified>();

  constructor(client: ReplicaClient, options: ReplicaValidatorOptions = {}) {
    this.client = client;
    this.maxBytes = options.maxBytes ?? DEFAULT_VALIDATION_BYTES;
    this.logger = options.logger ?? silentLogger;
  }

  async validate(): Promise<ReplicaValidationResult> {
    const plan = await planRestore(this.client);
    const kept = new Map<string, Verified>();
    let checked = 0;
    let bytes = 0;
    let remaining = 0;
    let prev: { file: LtxFileInfo; verified: Verified | undefined } | undefined;
    for (const file of plan.files) {
      const key = fileKey(file);
      let verified = this.verified.get(key);
      if (!verified && (checked === 0 || bytes + file.size <= this.maxBytes)) {
        const result = await verifyReplicaFile(this.client, file);
        verified = { preApplyChecksum: result.header.preApplyChecksum, postApplyChecksum: result.postApplyChecksum, noChecksum: hasNoChecksum(result.header) };
        this.verified.set(key, verified);
        checked += 1;
        bytes += file.size;
      }
      if (verified) kept.set(key, verified);
      else remaining += 1;
      if (prev?.verified && verified) this.checkChain(prev.file, prev.verified, file, verified);
      prev = { file, verified };
    }
    // Files no longer in the plan (compacted, superseded, deleted) are forgotten: memory stays bounded.
    this.verified = kept;
    this.logger.debug('replica validated', { txid: plan.txid, files: plan.files.length, checked, bytes, remaining });
    return { checked, bytes, remaining };
  }

  private checkChain(prev: LtxFileInfo, before: Verified, file: LtxFileInfo, verified: Verified): void {
    if (file.minTXID !== prev.maxTXID + 1 || before.noChecksum || verified.noChecksum) return;
    if (verified.preApplyChecksum === before.postApplyChecksum) return;
    const location = this.client.ltxFileLocation(file);
    const cause = new ChecksumMismatchError('pre-apply', verified.preApplyChecksum, before.postApplyChecksum, {
      file: location,
      detail: `does not continue from ${this.client.ltxFileLocation(prev)}`,
    });
    // Forget the pair: once repaired (or if the listing was stale) they are read again.
    this.verified.delete(fileKey(file));
    throw new CorruptReplicaFileError(file, location, 'pre-apply checksum', cause, prev);
  }
}

function fileKey(f: LtxFileInfo): string {
  return `${f.level}/${f.minTXID}-${f.maxTXID}/${f.size}/${f.createdAt.getTime()}`;
}
