import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pageChecksum } from '../checksum/index.ts';
import { snapshotDatabaseFile } from '../sqlite/snapshot.ts';
import { MemorySink, chunked, decodeAll } from '../test-support/streams.ts';
import { FRAME_HEADER_SIZE, HEADER_SIZE, lockPgno } from './constants.ts';
import { LtxDecoder, verifyLtx, type LtxDecodeResult } from './decoder.ts';
import { LtxEncoder } from './encoder.ts';
import { CorruptError } from './errors.ts';
import { acquireLocalExecutor } from './local-executor.ts';
import { framesPerBatch } from './page-batch.ts';
import { PageWorkerPool } from './page-workers.ts';

const scratch = await mkdtemp(join(tmpdir(), 'page-batch-'));
const pools: PageWorkerPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  await rm(scratch, { recursive: true, force: true });
});
const pool = (workers: number) => {
  const p = new PageWorkerPool(workers);
  pools.push(p);
  return p;
};

/** A ~2.5 MB database (several batches of pages): text, an index, random and zero blobs. */
const database = join(scratch, 'source.db');
{
  const db = new Database(database);
  db.exec(`CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, body BLOB); CREATE INDEX t_name ON t(name);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1500)
    INSERT INTO t SELECT i, 'row ' || (i * 7919 % 2000), CASE WHEN i % 3 = 0 THEN randomblob(1500) ELSE zeroblob(1000) END FROM c;`);
  db.close();
}
const snapshot = new MemorySink();
await snapshotDatabaseFile(database, snapshot, { txid: 1, timestamp: 1_700_000_000_000, workers: 0 });
const ltx = snapshot.bytes;
const pageCount = readFileSync(database).byteLength / 4096;

interface Decoded {
  pgnos: number[];
  checksums: bigint[];
  data: Buffer;
  result: LtxDecodeResult;
}

/** Decodes with `batches()`, writing pages to a file when no batch carries them. */
async function decodeBatches(source: AsyncIterable<Uint8Array>, options: { pool?: PageWorkerPool; maxPages?: number }): Promise<Decoded> {
  const out = join(scratch, `out-${Math.random().toString(36).slice(2)}.db`);
  const fd = openSync(out, 'w+');
  try {
    const decoder = new LtxDecoder(source, { file: 'x.ltx' });
    await decoder.readHeader();
    const pgnos: number[] = [];
    const checksums: bigint[] = [];
    for await (const batch of decoder.batches({ fd, pool: options.pool, maxPages: options.maxPages })) {
      for (let i = 0; i < batch.count; i++) {
        pgnos.push(batch.pgno(i));
        checksums.push(batch.checksum(i));
      }
    }
    const result = await decoder.finish();
    return { pgnos, checksums, data: await readFile(out), result };
  } finally {
    closeSync(fd);
  }
}

describe('page batches: executors agree', () => {
  it('the WebAssembly kernel and the JS fallback decode a batch to the same pages, checksums and file checksum', async () => {
    const wasm = acquireLocalExecutor();
    const js = acquireLocalExecutor({ js: true });
    try {
      const [a, b] = [wasm.take()!, js.take()!];
      // The first 200 frames of the snapshot, into both slots.
      let p = HEADER_SIZE;
      for (let i = 0; i < 200; i++) {
        const size = FRAME_HEADER_SIZE + ltx.readUInt32BE(p + 6);
        for (const slot of [a, b]) {
          slot.append(ltx.subarray(p, p + size));
          slot.addFrame(ltx.readUInt32BE(p), p, size);
        }
        p += size;
      }
      expect(await wasm.decode(a, 4096, 12345n, undefined)).toEqual({ failedAt: -1, detail: 0 });
      expect(await js.decode(b, 4096, 12345n, undefined)).toEqual({ failedAt: -1, detail: 0 });
      expect(Buffer.from(wasm.pages(200, 4096)).equals(Buffer.from(js.pages(200, 4096)))).toBe(true);
      expect(a.segment()).toBe(b.segment());
      expect(a.xor()).toBe(b.xor());
      const source = readFileSync(database);
      for (let i = 0; i < 200; i++) {
        expect(a.checksum(i)).toBe(b.checksum(i));
        expect(a.checksum(i)).toBe(pageChecksum(i + 1, source.subarray(i * 4096, (i + 1) * 4096)));
      }
    } finally {
      wasm.close();
      js.close();
    }
  });

  it('the WebAssembly compressor and lz4-napi encode frames that checksum the same', async () => {
    const wasm = acquireLocalExecutor();
    const js = acquireLocalExecutor({ js: true });
    try {
      const pages = readFileSync(database).subarray(0, 100 * 4096);
      const pgnos = Array.from({ length: 100 }, (_, i) => i + 1);
      const [a, b] = [wasm.take()!, js.take()!];
      a.setPages(pages, pgnos, 100);
      b.setPages(pages, pgnos, 100);
      const ea = wasm.encode(a, 4096, 0n);
      const eb = js.encode(b, 4096, 0n);
      expect(a.xor()).toBe(b.xor());
      for (let i = 0; i < 100; i++) expect(a.checksum(i)).toBe(b.checksum(i));
      // Different compressors, so different block sizes: the file checksum folds in the
      // size fields, and both decode to the same pages.
      for (const [executor, slot, bytes] of [[js, a, ea.bytes], [wasm, b, eb.bytes]] as const) {
        const frames = slot.encodedFrames(bytes);
        const view = new DataView(frames.buffer, frames.byteOffset, frames.byteLength);
        const other = executor.take()!;
        let p = 0;
        for (let i = 0; i < 100; i++) {
          const size = FRAME_HEADER_SIZE + view.getUint32(p + 6);
          other.append(frames.subarray(p, p + size));
          other.addFrame(i + 1, p, size);
          p += size;
        }
        expect(p).toBe(bytes);
        expect((await executor.decode(other, 4096, 0n, undefined)).failedAt).toBe(-1);
        expect(Buffer.from(executor.pages(100, 4096)).equals(pages)).toBe(true);
        executor.release(other);
      }
    } finally {
      wasm.close();
      js.close();
    }
  });
});

describe('LtxDecoder.batches', () => {
  it('gives the same pages, checksums and result on this thread and on 1 or 2 workers, whatever the chunking', async () => {
    const reference = await decodeBatches(chunked(ltx, 1 << 20), {});
    expect(reference.pgnos).toEqual(Array.from({ length: pageCount }, (_, i) => i + 1));
    expect(reference.data.equals(readFileSync(database))).toBe(true);
    for (const [label, options] of [
      ['1 worker', { pool: pool(1) }],
      ['2 workers', { pool: pool(2) }],
      ['small batches', { maxPages: 7 }],
      ['2 workers, small batches', { pool: pool(2), maxPages: 5 }],
    ] as const) {
      for (const chunk of [7, 4093, 1 << 16]) {
        const decoded = await decodeBatches(chunked(ltx, chunk), options);
        expect(decoded.pgnos, `${label}, ${chunk}-byte chunks`).toEqual(reference.pgnos);
        expect(decoded.checksums).toEqual(reference.checksums);
        expect(decoded.data.equals(reference.data)).toBe(true);
        expect(decoded.result.fileChecksum).toBe(reference.result.fileChecksum);
        expect(decoded.result.pagesChecksum).toBe(reference.result.pagesChecksum);
      }
    }
  });

  it('names the page whose block does not decode, on a worker as on this thread', async () => {
    // Page 300's block: its first token claims more literals than the block holds.
    let p = HEADER_SIZE;
    for (let pgno = 1; pgno < 300; pgno++) p += FRAME_HEADER_SIZE + ltx.readUInt32BE(p + 6);
    const damaged = Buffer.from(ltx);
    damaged[p + FRAME_HEADER_SIZE] = 0xf0;
    damaged[p + FRAME_HEADER_SIZE + 1] = 0xff;
    for (const options of [{}, { pool: pool(1) }]) {
      const err = await decodeBatches(chunked(damaged, 1 << 16), options).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err).toBeInstanceOf(CorruptError);
      expect(err!.message).toMatch(/^x\.ltx: corrupt LTX page: page 300 does not decompress: /);
    }
  });

  it('stopping early waits for the workers and leaves the pool usable', async () => {
    const workers = pool(1);
    const decoder = new LtxDecoder(chunked(ltx, 1 << 16));
    await decoder.readHeader();
    for await (const batch of decoder.batches({ pool: workers, maxPages: 16 })) {
      expect(batch.count).toBeGreaterThan(0);
      break;
    }
    await decoder.cancel();
    const again = await decodeBatches(chunked(ltx, 1 << 16), { pool: workers });
    expect(again.data.equals(readFileSync(database))).toBe(true);
  });

  it('reports a failed write with its error code, from a worker and from this thread', async () => {
    const out = join(scratch, 'read-only.db');
    closeSync(openSync(out, 'w'));
    // Open for reading only: every write to it fails with EBADF.
    const fd = openSync(out, 'r');
    for (const workers of [pool(1), undefined]) {
      const decoder = new LtxDecoder(chunked(ltx, 1 << 16));
      await decoder.readHeader();
      const err = await (async () => {
        for await (const _ of decoder.batches({ fd, pool: workers }));
      })().then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      await decoder.cancel();
      expect(err?.code, workers ? 'on a worker' : 'on this thread').toBe('EBADF');
    }
    closeSync(fd);
  });
});

describe('LtxEncoder.writePages', () => {
  const source = readFileSync(database);
  const init = { pageSize: 4096, commit: pageCount, minTXID: 1, maxTXID: 1, timestamp: 1_700_000_000_000 };

  async function encodeWith(write: (encoder: LtxEncoder) => Promise<void>, options: { pool?: PageWorkerPool } = {}) {
    const sink = new MemorySink();
    const sums: Array<[number, bigint]> = [];
    const encoder = new LtxEncoder(sink, init, { ...options, onPageChecksum: (pgno, sum) => sums.push([pgno, sum]) });
    await write(encoder);
    const result = await encoder.finish();
    return { bytes: sink.bytes, sums, result };
  }

  it('writes the same bytes page by page, in runs, and on workers; every checksum reported in order', async () => {
    const byPage = await encodeWith(async (e) => {
      for (let pgno = 1; pgno <= pageCount; pgno++) await e.writePage(pgno, source.subarray((pgno - 1) * 4096, pgno * 4096));
    });
    const runs = (encoder: LtxEncoder) => async () => {
      // Uneven runs, so batches do not line up with them.
      for (let first = 1; first <= pageCount; first += 97) {
        const count = Math.min(97, pageCount - first + 1);
        await encoder.writePages(first, source.subarray((first - 1) * 4096, (first - 1 + count) * 4096));
      }
    };
    const inRuns = await encodeWith((e) => runs(e)());
    const onWorkers = await encodeWith((e) => runs(e)(), { pool: pool(2) });
    expect(inRuns.bytes.equals(byPage.bytes)).toBe(true);
    expect(onWorkers.bytes.equals(byPage.bytes)).toBe(true);
    const expected = Array.from({ length: pageCount }, (_, i) => [i + 1, pageChecksum(i + 1, source.subarray(i * 4096, (i + 1) * 4096))]);
    for (const encoded of [byPage, inRuns, onWorkers]) expect(encoded.sums).toEqual(expected);
    const decoded = await decodeAll(chunked(onWorkers.bytes, 1 << 16));
    expect(Buffer.concat(decoded.pages.map((p) => p.data)).equals(source)).toBe(true);
    expect(decoded.fileChecksum).toBe(byPage.result.fileChecksum);
  });

  it('writePageList: scattered pages from a reused buffer give the bytes of writePage, across batches, in order', async () => {
    // Four pages in five (gaps between), more than a batch's worth, handed over through one buffer.
    const pgnos = Array.from({ length: pageCount }, (_, i) => i + 1).filter((pgno) => pgno % 5 !== 0);
    const sparse = { ...init, minTXID: 2, maxTXID: 2, preApplyChecksum: 1n << 63n };
    const pageOf = (pgno: number) => source.subarray((pgno - 1) * 4096, pgno * 4096);
    const byPage = new MemorySink();
    const one = new LtxEncoder(byPage, sparse);
    for (const pgno of pgnos) await one.writePage(pgno, pageOf(pgno));
    await one.finish(1n << 63n);
    const listed = new MemorySink();
    const sums: Array<[number, bigint]> = [];
    const list = new LtxEncoder(listed, sparse, { onPageChecksum: (pgno, sum) => sums.push([pgno, sum]) });
    const reused = Buffer.alloc(4096);
    await list.writePageList(pgnos, (i) => {
      pageOf(pgnos[i]!).copy(reused);
      return reused;
    });
    // Every checksum is in before the list's promise resolves (no pool), so a caller can finish with them.
    expect(sums).toEqual(pgnos.map((pgno) => [pgno, pageChecksum(pgno, pageOf(pgno))]));
    await list.finish(1n << 63n);
    expect(pgnos.length).toBeGreaterThan(framesPerBatch(4096));
    expect(listed.bytes.equals(byPage.bytes)).toBe(true);
    await expect(list.writePageList([1], () => reused)).rejects.toThrow(/finished/);
  });

  it('writePageList refuses pages out of order', async () => {
    const encoder = new LtxEncoder(new MemorySink(), { pageSize: 4096, commit: 10, minTXID: 2, maxTXID: 2, preApplyChecksum: 1n << 63n });
    await expect(encoder.writePageList([3, 2], () => Buffer.alloc(4096))).rejects.toThrow(/ascending/);
  });

  it('skips the lock page inside a run, and refuses runs out of order or past commit', async () => {
    const pageSize = 65536;
    const lock = lockPgno(pageSize);
    const sink = new MemorySink();
    const encoder = new LtxEncoder(sink, { pageSize, commit: lock + 2, minTXID: 5, maxTXID: 5, preApplyChecksum: 1n << 63n });
    const run = Buffer.alloc(5 * pageSize);
    for (let i = 0; i < 5; i++) run.writeUInt32BE(lock - 2 + i, i * pageSize);
    await encoder.writePages(lock - 2, run);
    await expect(encoder.writePages(lock - 4, run.subarray(0, pageSize))).rejects.toThrow(/ascending/);
    await expect(encoder.writePages(lock + 3, run.subarray(0, pageSize))).rejects.toThrow(/beyond commit/);
    await expect(encoder.writePages(lock + 3, run.subarray(0, 100))).rejects.toThrow(/whole pages/);
    await encoder.finish(1n << 63n);
    const decoded = await decodeAll(chunked(sink.bytes, 1 << 20));
    expect(decoded.pages.map((p) => p.pgno)).toEqual([lock - 2, lock - 1, lock + 1, lock + 2]);
    expect(decoded.pages.map((p) => p.data.readUInt32BE(0))).toEqual([lock - 2, lock - 1, lock + 1, lock + 2]);
  });
});

describe('snapshotDatabaseFile', () => {
  it('writes the same bytes with and without workers, and they verify', async () => {
    const outputs: Buffer[] = [];
    for (const workers of [0, 1, 2]) {
      const sink = new MemorySink();
      await snapshotDatabaseFile(database, sink, { txid: 3, timestamp: 1_700_000_000_000, workers, workerBytes: 0 });
      outputs.push(sink.bytes);
    }
    expect(outputs[1]!.equals(outputs[0]!)).toBe(true);
    expect(outputs[2]!.equals(outputs[0]!)).toBe(true);
    const result = await verifyLtx(chunked(outputs[0]!, 1 << 16));
    expect(result.pageCount).toBe(pageCount);
  });

  it('writes a snapshot through a file stream with recycled chunks intact', async () => {
    const path = join(scratch, 'snapshot.ltx');
    const { createWriteStream } = await import('node:fs');
    const stream = createWriteStream(path, { highWaterMark: 1 << 16 });
    // Small chunks, so the four recycled buffers go round many times.
    await snapshotDatabaseFile(database, stream, { txid: 1, timestamp: 1_700_000_000_000, workers: 1, workerBytes: 0 });
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
    expect((await readFile(path)).equals(ltx)).toBe(true);
  });
});
