import type { TXID } from '../ltx/txid.ts';
import type { LtxFileInfo } from '../replica/replica-client.ts';

/** A range of TXIDs no file of a level holds. */
export interface TxidRange {
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
}

/** The source files one compaction merges, and the holes around them. */
export interface CompactionRun {
  /** Files to merge, in TXID order; empty when the source holds nothing new. */
  readonly files: readonly LtxFileInfo[];
  /** TXIDs missing between a non-empty destination's end and the run's first file. */
  readonly gapBefore: TxidRange | undefined;
  /** TXIDs missing right after the run: the source continues past them, the run stops. */
  readonly gapAfter: TxidRange | undefined;
}

/**
 * Chooses the files of a source level that a compaction into a destination ending at
 * `dstEnd` (0 when empty) merges: every file that reaches past `dstEnd`, as long as they
 * chain without a hole. The first file may start anywhere — older files may have been
 * removed by retention — but the run stops before a missing TXID, because one output file
 * must never claim TXIDs it does not hold; the files after the hole wait for the next run.
 * Files wholly inside what is already covered are skipped, and so are files that a later file
 * of the run, starting at the same TXID, covers.
 *
 * @param source the source level's files sorted by minTXID, then maxTXID (listing order).
 */
export function selectCompactionRun(source: Iterable<LtxFileInfo>, dstEnd: TXID): CompactionRun {
  const files: LtxFileInfo[] = [];
  let end = dstEnd;
  let gapBefore: TxidRange | undefined;
  let gapAfter: TxidRange | undefined;
  for (const file of source) {
    if (file.maxTXID <= end) continue;
    if (file.minTXID > end + 1) {
      if (files.length > 0) {
        gapAfter = { minTXID: end + 1, maxTXID: file.minTXID - 1 };
        break;
      }
      // An empty destination simply starts where the source does; a non-empty one gets a hole.
      if (dstEnd > 0) gapBefore = { minTXID: dstEnd + 1, maxTXID: file.minTXID - 1 };
    }
    // A file starting where earlier run files start covers them (a full image starts at 1): they
    // add nothing, and one of them may be a damaged file this newer one was written to replace.
    while (files.length > 0 && files[files.length - 1]!.minTXID >= file.minTXID) files.pop();
    files.push(file);
    end = file.maxTXID;
  }
  return { files, gapBefore, gapAfter };
}
