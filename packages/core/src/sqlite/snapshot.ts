import { open } from 'node:fs/promises';
import type { ByteSink } from '../io/byte-sink.ts';
import { LtxEncoder, type LtxEncodeResult } from '../ltx/encoder.ts';
import { LitestreamError } from '../ltx/errors.ts';
import { BATCH_PAGE_BYTES } from '../ltx/page-batch.ts';
import { defaultPageWorkers, PageWorkerPool } from '../ltx/page-workers.ts';
import { readSqliteHeader } from './database-header.ts';

export interface SnapshotOptions {
  /** Max TXID of the snapshot (default 1). */
  readonly txid?: number;
  /** Header timestamp in ms (default now). */
  readonly timestamp?: number;
  /** Called after each chunk with bytes read so far and the total, for progress display. */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Worker threads that compress and checksum pages for databases of `workerBytes` or more
   * (default: one per core but this one, up to 3; 0 keeps all work on the calling thread).
   */
  readonly workers?: number;
  /** Databases at least this large use the workers (default 64 MiB). */
  readonly workerBytes?: number;
  /** Reuse output chunks once the sink is done with them (see `LtxEncoderOptions.recycleChunks`). */
  readonly recycleChunks?: boolean;
}

/** Below this, starting worker threads costs more than they save. */
const WORKER_DATABASE_BYTES = 64 * 1024 * 1024;

/**
 * Encodes a SQLite database file as an LTX snapshot (TXID 1..txid). The file is read in
 * 1 MiB positioned reads into one reused buffer and handed to `LtxEncoder.writePages`, so
 * memory stays flat whatever the size; large databases are compressed on worker threads.
 * Only the main database file is read: frames still in a `-wal` file are not included.
 */
export async function snapshotDatabaseFile(path: string, sink: ByteSink, options: SnapshotOptions = {}): Promise<LtxEncodeResult> {
  const { pageSize, pageCount } = await readSqliteHeader(path);
  const total = pageCount * pageSize;
  const workers = options.workers ?? defaultPageWorkers();
  const pool = workers > 0 && total >= (options.workerBytes ?? WORKER_DATABASE_BYTES) ? new PageWorkerPool(workers) : undefined;
  const fh = await open(path, 'r');
  try {
    const encoder = new LtxEncoder(
      sink,
      { pageSize, commit: pageCount, minTXID: 1, maxTXID: options.txid ?? 1, timestamp: options.timestamp ?? Date.now() },
      { file: path, pool, ...(options.recycleChunks !== undefined ? { recycleChunks: options.recycleChunks } : {}) },
    );
    const pagesPerRead = Math.max(1, Math.floor(BATCH_PAGE_BYTES / pageSize));
    const buffer = Buffer.allocUnsafeSlow(pagesPerRead * pageSize);
    for (let first = 1; first <= pageCount; first += pagesPerRead) {
      const count = Math.min(pagesPerRead, pageCount - first + 1);
      const length = count * pageSize;
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(buffer, got, length - got, (first - 1) * pageSize + got);
        if (bytesRead === 0) {
          throw new LitestreamError(`database shrank while it was read: got ${first - 1 + Math.floor(got / pageSize)} of ${pageCount} pages`, { file: path });
        }
        got += bytesRead;
      }
      await encoder.writePages(first, buffer.subarray(0, length));
      options.onProgress?.((first - 1 + count) * pageSize, total);
    }
    return await encoder.finish();
  } finally {
    await fh.close();
    await pool?.close();
  }
}
