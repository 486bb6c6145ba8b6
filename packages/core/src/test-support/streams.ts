import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { LtxDecoder, type LtxPage } from '../ltx/decoder.ts';
import type { LtxHeader } from '../ltx/header.ts';

/** A Writable that keeps everything written, for tests. */
export class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(Buffer.from(chunk));
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Yields a buffer in chunks of `size` bytes, to exercise chunk boundaries. */
export async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += size) yield data.subarray(i, i + size);
}

/** Decodes a whole LTX file into memory (tests only). */
export async function decodeAll(source: AsyncIterable<Uint8Array> | string): Promise<{ header: LtxHeader; pages: LtxPage[]; postApplyChecksum: bigint; fileChecksum: bigint }> {
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const decoder = new LtxDecoder(input, { file: typeof source === 'string' ? source : undefined });
  const header = await decoder.readHeader();
  const pages: LtxPage[] = [];
  for await (const page of decoder.pages()) pages.push(page);
  const { postApplyChecksum, fileChecksum } = await decoder.finish();
  return { header, pages, postApplyChecksum, fileChecksum };
}

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
