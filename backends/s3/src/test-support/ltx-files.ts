import { PassThrough } from 'node:stream';
import { LtxEncoder } from '@litestream-ts/core';
import { collect } from '../../../../packages/core/src/test-support/streams.ts';

export { collect };

/** A real LTX file of `pageCount` pseudo-random 4 KiB pages, encoded in memory. */
export async function encodeLtxFile(options: { minTXID: number; maxTXID: number; pageCount: number; timestamp: Date; seed?: number }): Promise<Buffer> {
  const pipe = new PassThrough();
  const chunks: Buffer[] = [];
  pipe.on('data', (chunk: Buffer) => chunks.push(chunk));
  const encoder = new LtxEncoder(pipe, {
    pageSize: 4096,
    commit: options.pageCount,
    minTXID: options.minTXID,
    maxTXID: options.maxTXID,
    timestamp: options.timestamp.getTime(),
    ...(options.minTXID === 1 ? {} : { preApplyChecksum: 0x8000_0000_0000_0001n }),
  });
  let x = options.seed ?? options.maxTXID;
  for (let pgno = 1; pgno <= options.pageCount; pgno++) {
    const page = Buffer.alloc(4096);
    // Half random, half zeros: compressible like a real page, never all the same.
    for (let i = 0; i < 2048; i += 4) {
      x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
      page.writeUInt32BE(x, i);
    }
    await encoder.writePage(pgno, page);
  }
  await encoder.finish(options.minTXID === 1 ? undefined : 0x8000_0000_0000_0002n);
  if (!pipe.writableEnded) pipe.end();
  return Buffer.concat(chunks);
}

/** `size` pseudo-random bytes. */
export function pseudoRandomBuffer(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0;
  for (let i = 0; i + 4 <= size; i += 4) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Every item of an async iterable (Array.fromAsync is beyond the ES2023 library this repo targets). */
