import { createReadStream } from 'node:fs';
import type { ByteSink } from '../io/chunk-writer.ts';
import { lockPgno } from '../ltx/constants.ts';
import { LtxEncoder, type LtxEncodeResult } from '../ltx/encoder.ts';
import { LitestreamError } from '../ltx/errors.ts';
import { readSqliteHeader } from './database-header.ts';

export interface SnapshotOptions {
  /** Max TXID of the snapshot (default 1). */
  readonly txid?: number;
  /** Header timestamp in ms (default now). */
  readonly timestamp?: number;
  /** Called after each chunk with bytes read so far and the total, for progress display. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Encodes a SQLite database file as an LTX snapshot (TXID 1..txid), reading it in large
 * sequential chunks. Only the main database file is read: frames still in a `-wal` file
 * are not included.
 */
export async function snapshotDatabaseFile(path: string, sink: ByteSink, options: SnapshotOptions = {}): Promise<LtxEncodeResult> {
  const { pageSize, pageCount } = await readSqliteHeader(path);
  const encoder = new LtxEncoder(
    sink,
    { pageSize, commit: pageCount, minTXID: 1, maxTXID: options.txid ?? 1, timestamp: options.timestamp ?? Date.now() },
    { file: path },
  );
  const total = pageCount * pageSize;
  const lock = lockPgno(pageSize);
  const chunkSize = Math.max(pageSize, 1 << 20);
  let pgno = 1;
  let carry: Buffer | undefined;
  const source = total > 0 ? (createReadStream(path, { start: 0, end: total - 1, highWaterMark: chunkSize }) as AsyncIterable<Buffer>) : [];
  for await (const chunk of source) {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    let pos = 0;
    while (buf.byteLength - pos >= pageSize && pgno <= pageCount) {
      if (pgno !== lock) await encoder.writePage(pgno, buf.subarray(pos, pos + pageSize));
      pos += pageSize;
      pgno += 1;
    }
    carry = pos < buf.byteLength ? Buffer.from(buf.subarray(pos)) : undefined;
    options.onProgress?.((pgno - 1) * pageSize, total);
  }
  if (pgno <= pageCount) throw new LitestreamError(`database shrank while it was read: got ${pgno - 1} of ${pageCount} pages`, { file: path });
  return encoder.finish();
}
