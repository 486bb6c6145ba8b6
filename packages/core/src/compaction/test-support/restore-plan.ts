import { readFile } from 'node:fs/promises';
import { SNAPSHOT_LEVEL } from '../../ltx/constants.ts';
import { LtxApplier } from '../../restore/ltx-applier.ts';
import type { LtxFileInfo, LtxFileRef, ReplicaClient } from '../../replica/replica-client.ts';
import { label } from './ltx-fixtures.ts';

/** A restore chain and the TXID it reaches. */
export interface RestorePlan {
  readonly chain: readonly LtxFileInfo[];
  readonly txid: number;
}

/**
 * The restore plan of DESIGN §4 over a set of files: the newest snapshot at or before the
 * target, then repeatedly the file of any tier that starts at or before position+1, goes
 * past the position without passing the target, and reaches furthest. Reaching further is
 * never worse (every file usable from a position is usable from a later one), so this finds
 * the furthest restorable TXID at or before the target. Undefined when nothing applies.
 */
export function planRestore(files: readonly LtxFileInfo[], target: number): RestorePlan | undefined {
  const chain: LtxFileInfo[] = [];
  let position = 0;
  const snapshot = files
    .filter((f) => f.level === SNAPSHOT_LEVEL && f.maxTXID <= target)
    .reduce<LtxFileInfo | undefined>((best, f) => (best === undefined || f.maxTXID > best.maxTXID ? f : best), undefined);
  if (snapshot) {
    chain.push(snapshot);
    position = snapshot.maxTXID;
  }
  for (;;) {
    let next: LtxFileInfo | undefined;
    for (const f of files) {
      if (f.level === SNAPSHOT_LEVEL || f.minTXID > position + 1 || f.maxTXID <= position || f.maxTXID > target) continue;
      if (next === undefined || f.maxTXID > next.maxTXID) next = f;
    }
    if (next === undefined) break;
    chain.push(next);
    position = next.maxTXID;
  }
  return chain.length === 0 ? undefined : { chain, txid: position };
}

/** TXIDs in `from..to` that a restore can reach exactly with these files. */
export function restorableTXIDs(files: readonly LtxFileInfo[], from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t++) if (planRestore(files, t)?.txid === t) out.push(t);
  return out;
}

/** Applies a chain read from the replica to a new database at `path`; returns its bytes. */
export async function applyChain(client: ReplicaClient, chain: readonly LtxFileRef[], path: string): Promise<Buffer> {
  const applier = new LtxApplier(path);
  try {
    for (const ref of chain) await applier.apply(await client.openLtxFile(ref), label(ref));
  } finally {
    await applier.close();
  }
  return readFile(path);
}
