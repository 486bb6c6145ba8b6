import { LtxEncoder } from '../../ltx/encoder.ts';
import type { LtxFileInfo, ReplicaClient } from '../../replica/replica-client.ts';
import { snapshotDatabaseFile } from '../../sqlite/snapshot.ts';
import { MemorySink } from '../../test-support/streams.ts';
import { changedPages, pageOf, type DatabaseHistory } from './database-history.ts';

/** A fixed clock origin, so file times are exact and readable in tests. */
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

/** The time TXID `txid` was written in the test timelines: one minute apart. */
export function minute(n: number): Date {
  return new Date(T0 + n * 60_000);
}

/**
 * The level-0 LTX file the replicator would make for `txid`: the whole database for TXID 1,
 * otherwise the pages that changed, with the checksums of the states before and after.
 */
export async function levelZeroFile(history: DatabaseHistory, txid: number, timestamp: Date): Promise<Buffer> {
  const sink = new MemorySink();
  if (txid === 1) {
    await snapshotDatabaseFile(history.statePath(1), sink, { txid: 1, timestamp: timestamp.getTime() });
    return sink.bytes;
  }
  const image = history.state(txid);
  const encoder = new LtxEncoder(sink, {
    pageSize: history.pageSize,
    commit: image.byteLength / history.pageSize,
    minTXID: txid,
    maxTXID: txid,
    timestamp: timestamp.getTime(),
    preApplyChecksum: history.checksum(txid - 1),
  });
  for (const pgno of changedPages(history, txid)) await encoder.writePage(pgno, pageOf(image, pgno, history.pageSize));
  await encoder.finish(history.checksum(txid));
  return sink.bytes;
}

/**
 * A level-0 file for `txid` that is whole and valid but does not continue from TXID `txid - 1`:
 * its pre-apply checksum is that of the state after `claimedBase` (a replica two writers shared).
 */
export async function unchainedLevelZeroFile(history: DatabaseHistory, txid: number, claimedBase: number, timestamp: Date): Promise<Buffer> {
  const sink = new MemorySink();
  const image = history.state(txid);
  const encoder = new LtxEncoder(sink, {
    pageSize: history.pageSize,
    commit: image.byteLength / history.pageSize,
    minTXID: txid,
    maxTXID: txid,
    timestamp: timestamp.getTime(),
    preApplyChecksum: history.checksum(claimedBase),
  });
  for (const pgno of changedPages(history, txid)) await encoder.writePage(pgno, pageOf(image, pgno, history.pageSize));
  await encoder.finish(history.checksum(txid));
  return sink.bytes;
}

/** Stores the level-0 file of each TXID in `txids`, written at `minute(txid)`. */
export async function writeLevelZero(client: ReplicaClient, history: DatabaseHistory, txids: Iterable<number>): Promise<void> {
  for (const txid of txids) {
    const bytes = await levelZeroFile(history, txid, minute(txid));
    await client.writeLtxFile({ level: 0, minTXID: txid, maxTXID: txid }, bytes, { timestamp: minute(txid) });
  }
}

/** Stores a level-9 snapshot of the state after `txid`, written at `minute(txid)`. */
export async function writeSnapshot(client: ReplicaClient, history: DatabaseHistory, txid: number): Promise<void> {
  const sink = new MemorySink();
  await snapshotDatabaseFile(history.statePath(txid), sink, { txid, timestamp: minute(txid).getTime() });
  await client.writeLtxFile({ level: 9, minTXID: 1, maxTXID: txid }, sink.bytes, { timestamp: minute(txid) });
}

/** `1..n` as an array. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Every file of every level, in level then TXID order. */
export async function listReplica(client: ReplicaClient): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for (let level = 0; level <= 9; level++) for await (const info of client.listLtxFiles(level)) files.push(info);
  return files;
}

/** `L<level>:<min>-<max>` with decimal TXIDs, for readable assertions. */
export function label(file: { level: number; minTXID: number; maxTXID: number }): string {
  return `L${file.level}:${file.minTXID}-${file.maxTXID}`;
}
