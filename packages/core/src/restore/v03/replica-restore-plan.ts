import { MAX_LEVEL } from '../../ltx/constants.ts';
import { formatTXID } from '../../ltx/txid.ts';
import type { ReplicaClient } from '../../replica/replica-client.ts';
import { NoBackupsError, RestoreTargetError } from '../restore-errors.ts';
import { planRestore, type RestorePlan, type RestoreTarget } from '../restore-plan.ts';
import { describeV03Catalog, readV03Catalog, type V03Catalog } from './v03-catalog.ts';
import { V03NoSnapshotError } from './v03-errors.ts';
import { planV03Restore, type V03RestorePlan } from './v03-plan.ts';

/** A restore plan in whichever format the replica's best data for the target is in. */
export type ReplicaRestorePlan = { readonly format: 'ltx'; readonly plan: RestorePlan } | { readonly format: 'v0.3'; readonly plan: V03RestorePlan };

/**
 * Plans a restore from a replica that may hold LTX files, Litestream v0.3 generations, or both
 * (a database replicated by v0.3, then by v0.5 or by us). Like Litestream v0.5:
 * - a TXID target is LTX only (v0.3 has no TXIDs);
 * - otherwise the format whose data is newest at the target wins: the newest object written at
 *   or before the time (or at all, for the latest), counting only data a snapshot in range
 *   starts; equal times go to LTX. Then that format's plan is made, and its errors (a gap, a
 *   missing segment) are reported rather than falling back to older data in the other format.
 * A replica with v0.3 generations only costs one listing more than `planRestore`; one with LTX
 * files only, one LIST of `generations/`; when both exist the LTX levels are listed twice.
 * Backends without `rawObjectReads` (NATS, where v0.3 never wrote) plan LTX only.
 */
export async function planReplicaRestore(client: ReplicaClient, target: RestoreTarget = {}): Promise<ReplicaRestorePlan> {
  const catalog = await readV03Catalog(client);
  const hasV03 = catalog.generations.length > 0;
  if (!hasV03) {
    try {
      return { format: 'ltx', plan: await planRestore(client, target) };
    } catch (error) {
      // Say that v0.3 generations were looked for too.
      if (error instanceof NoBackupsError && client.capabilities.rawObjectReads === true) throw new NoBackupsError(client.type, error.levels, { v03Checked: true });
      throw error;
    }
  }
  if (target.txid !== undefined) {
    try {
      return { format: 'ltx', plan: await planRestore(client, target) };
    } catch (error) {
      if (error instanceof NoBackupsError) {
        throw new RestoreTargetError(`TXID ${formatTXID(target.txid)}`, `the replica holds no LTX files, only ${describeV03Catalog(catalog)}, which have no TXIDs; restore the latest state or use a timestamp`);
      }
      throw error;
    }
  }
  const ltxNewest = await newestLtxInRange(client, target.timestamp);
  let v03: V03RestorePlan | undefined;
  let v03Error: unknown;
  try {
    v03 = planV03Restore(catalog, target);
  } catch (error) {
    v03Error = error;
  }
  const v03Newest = v03?.timestamp ?? (v03Error instanceof V03NoSnapshotError ? undefined : newestV03InRange(catalog, target.timestamp));
  if (v03Newest !== undefined && (ltxNewest === undefined || v03Newest > ltxNewest)) {
    if (v03) return { format: 'v0.3', plan: v03 };
    throw v03Error;
  }
  if (ltxNewest === undefined && v03Error !== undefined) throw v03Error;
  return { format: 'ltx', plan: await planRestore(client, target) };
}

/**
 * The newest LTX file's time at or before `timestamp` (all files for the latest), provided a
 * file starting at TXID 1 is in range too; undefined when nothing in range can start a restore.
 */
async function newestLtxInRange(client: ReplicaClient, timestamp: Date | undefined): Promise<Date | undefined> {
  const limit = timestamp?.getTime() ?? Infinity;
  let newest: Date | undefined;
  let start = false;
  for (let level = 0; level <= MAX_LEVEL; level++) {
    for await (const f of client.listLtxFiles(level, { useMetadata: timestamp !== undefined })) {
      if (f.createdAt.getTime() > limit) continue;
      if (f.minTXID === 1) start = true;
      if (!newest || f.createdAt > newest) newest = f.createdAt;
    }
  }
  return start ? newest : undefined;
}

/** The newest v0.3 object at or before `timestamp` in a generation with a snapshot in range. */
function newestV03InRange(catalog: V03Catalog, timestamp: Date | undefined): Date | undefined {
  const limit = timestamp?.getTime() ?? Infinity;
  let newest: Date | undefined;
  for (const g of catalog.generations) {
    if (!g.snapshots.some((s) => s.createdAt.getTime() <= limit)) continue;
    for (const item of [...g.snapshots, ...g.segments]) {
      if (item.createdAt.getTime() <= limit && (!newest || item.createdAt > newest)) newest = item.createdAt;
    }
  }
  return newest;
}
