import { openLazily } from '../compaction/compact-level.ts';
import { uploadLtx } from '../compaction/ltx-upload.ts';
import { SNAPSHOT_LEVEL } from '../ltx/constants.ts';
import { compactLtx } from '../ltx/compactor.ts';
import { formatTXID } from '../ltx/txid.ts';
import { corruptInput } from '../replica/corrupt-replica-file.ts';
import type { LtxFileInfo, LtxFileRef, ReplicaClient } from '../replica/replica-client.ts';
import { ltxFileLabel, planRestore } from '../restore/restore-plan.ts';
import { silentLogger, type Logger } from './logger.ts';

/**
 * Writes a level-9 snapshot of the replica's latest state by merging the files a restore
 * would apply (newest snapshot, then tier files) into one: no database access needed, and
 * every input is verified on the way (a damaged one rejects with `CorruptReplicaFileError`).
 * Returns undefined when the newest snapshot is already the latest state.
 */
export async function writeReplicaSnapshot(client: ReplicaClient, options: { logger?: Logger; signal?: AbortSignal } = {}): Promise<LtxFileInfo | undefined> {
  const logger = options.logger ?? silentLogger;
  const signal = options.signal;
  const plan = await planRestore(client, {}, { signal });
  const only = plan.files.length === 1 ? plan.files[0] : undefined;
  if (only && only.level === SNAPSHOT_LEVEL) return undefined;
  const ref: LtxFileRef = { level: SNAPSHOT_LEVEL, minTXID: 1, maxTXID: plan.txid };
  const file = ltxFileLabel(ref);
  const inputs = plan.files.map((info) => ({ name: ltxFileLabel(info), ref: info, source: openLazily(client, info, { signal }) }));
  const { written, produced } = await uploadLtx(client, ref, (sink) => compactLtx(inputs, sink, { file }), { file, signal }).catch((err: unknown) => {
    throw corruptInput(client, err, inputs) ?? err;
  });
  logger.info('snapshot written', { level: SNAPSHOT_LEVEL, txid: formatTXID(plan.txid), files: plan.files.length, pages: produced.pageCount, size: written.size });
  return { ...ref, size: written.size, createdAt: written.createdAt };
}
