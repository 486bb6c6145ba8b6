import { Readable } from 'node:stream';
import { expect, it } from 'vitest';
import { NotFoundError, UsageError } from '@litestream-ts/core';
import { CLOCK_TOLERANCE_MS, skipNote, type CaseContext } from '../case-context.ts';
import { forEachConcurrently } from '../support/concurrency.ts';
import { pseudoRandomBytes, pseudoRandomStream } from '../support/pseudo-random.ts';
import { listAll, ref } from '../support/replica.ts';
import { asBuffer, digestOf, readAll } from '../support/streams.ts';

/** Writing files: sources, sizes, replacement, atomicity and parallel writers. */
export function writeCases({ client, capabilities, largeFileSize }: CaseContext): void {
  it('writes a file from a Uint8Array and reads the same bytes back', async () => {
    const content = pseudoRandomBytes(10_001, 1);
    await client().writeLtxFile(ref(0, 1, 1), content);
    expect((await readAll(await client().openLtxFile(ref(0, 1, 1)))).equals(asBuffer(content))).toBe(true);
  });

  it('writes a file from a Node Readable', async () => {
    const content = pseudoRandomBytes(200_003, 2);
    const source = Readable.from([content.subarray(0, 3), content.subarray(3, 150_000), content.subarray(150_000)], { objectMode: false });
    const written = await client().writeLtxFile(ref(0, 1, 1), source);
    expect(written.size).toBe(content.byteLength);
    expect((await readAll(await client().openLtxFile(ref(0, 1, 1)))).equals(asBuffer(content))).toBe(true);
  });

  it(`streams a ${formatSize(largeFileSize)} file of odd-sized chunks and reads back the same sha256`, async () => {
    const source = pseudoRandomStream(largeFileSize, 64);
    const file = ref(9, 1, 1000);
    const written = await client().writeLtxFile(file, source.chunks);
    expect(written.size).toBe(largeFileSize);
    const readBack = await digestOf(await client().openLtxFile(file));
    expect(readBack.size).toBe(largeFileSize);
    expect(readBack.sha256).toBe(source.sha256());
    const [listed] = await listAll(client(), 9);
    expect(listed?.size).toBe(largeFileSize);
  });

  it('returns the number of bytes written and a createdAt within the time of the write', async () => {
    const before = Date.now();
    const written = await client().writeLtxFile(ref(0, 5, 9), pseudoRandomBytes(12_345, 3));
    const after = Date.now();
    expect(written.size).toBe(12_345);
    expect(written.createdAt).toBeInstanceOf(Date);
    expect(written.createdAt.getTime()).toBeGreaterThanOrEqual(before - CLOCK_TOLERANCE_MS);
    expect(written.createdAt.getTime()).toBeLessThanOrEqual(after + CLOCK_TOLERANCE_MS);
  });

  it('replaces the content and size when the same name is written again', async () => {
    const file = ref(1, 3, 4);
    await client().writeLtxFile(file, pseudoRandomBytes(50_000, 4));
    const replacement = pseudoRandomBytes(1_234, 5);
    const written = await client().writeLtxFile(file, replacement);
    expect(written.size).toBe(1_234);
    expect((await readAll(await client().openLtxFile(file))).equals(asBuffer(replacement))).toBe(true);
    const listed = await listAll(client(), 1);
    expect(listed.map((f) => [f.minTXID, f.maxTXID, f.size])).toEqual([[3, 4, 1_234]]);
  });

  it('lands every file intact when 32 writers run at once', async () => {
    const files = Array.from({ length: 32 }, (_, i) => ({ file: ref(0, i + 1, i + 1), content: pseudoRandomBytes(65_536 + i * 257, 100 + i) }));
    await Promise.all(files.map(({ file, content }) => client().writeLtxFile(file, chunked(content, 8191))));
    const listed = await listAll(client(), 0);
    expect(listed.map((f) => f.size)).toEqual(files.map(({ content }) => content.byteLength));
    await forEachConcurrently(files, 8, async ({ file, content }) => {
      const back = await readAll(await client().openLtxFile(file));
      expect(back.equals(asBuffer(content)), `content of ${file.minTXID}`).toBe(true);
    });
  });

  it('rejects a write whose source fails midway and leaves no file under that name', async () => {
    // Backends may wrap the source's error; what matters is that the write rejects.
    await expect(client().writeLtxFile(ref(0, 7, 7), failingAfter(pseudoRandomBytes(100_000, 6), new Error('source broke')))).rejects.toThrow();
    expect(await listAll(client(), 0)).toEqual([]);
    await expect(client().openLtxFile(ref(0, 7, 7))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps the previous file whole when a replacing write fails midway', async () => {
    const file = ref(0, 8, 8);
    const original = pseudoRandomBytes(30_000, 7);
    await client().writeLtxFile(file, original);
    await expect(client().writeLtxFile(file, failingAfter(pseudoRandomBytes(100_000, 8), new Error('source broke')))).rejects.toThrow();
    expect((await readAll(await client().openLtxFile(file))).equals(asBuffer(original))).toBe(true);
    expect((await listAll(client(), 0)).map((f) => f.size)).toEqual([30_000]);
  });

  it.skipIf(!capabilities.releasesChunks)(
    `is done with each chunk when it asks for the next: a source that reuses one buffer stores the right bytes${skipNote(capabilities, 'releasesChunks')}`,
    async () => {
      const content = pseudoRandomBytes(3_000_003, 9);
      const file = ref(9, 1, 2);
      const written = await client().writeLtxFile(file, reusingOneBuffer(content, 65_536));
      expect(written.size).toBe(content.byteLength);
      expect((await readAll(await client().openLtxFile(file))).equals(asBuffer(content))).toBe(true);
    },
  );

  it('rejects a level outside 0..9 or a TXID range that is empty or starts at 0 with UsageError', async () => {
    const bytes = new Uint8Array(1);
    for (const bad of [ref(10, 1, 1), ref(-1, 1, 1), ref(0, 0, 1), ref(0, 5, 4), ref(0, 1.5, 2), ref(0, 1, 2 ** 53)]) {
      await expect(client().writeLtxFile(bad, bytes), JSON.stringify(bad)).rejects.toBeInstanceOf(UsageError);
    }
  });
}

/** Yields `bytes` in pieces of `size`. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/**
 * Yields `bytes` in pieces of `size` through one buffer, overwritten for each piece as soon as
 * the consumer asks for the next one (and scribbled over at the end): what a recycling
 * producer does, which only a backend that is done with each chunk by then survives.
 */
async function* reusingOneBuffer(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  for (let at = 0; at < bytes.byteLength; at += size) {
    const piece = bytes.subarray(at, at + size);
    buffer.set(piece);
    yield buffer.subarray(0, piece.byteLength);
    buffer.fill(0xa5);
  }
}

/** Yields half of `bytes`, then throws `error`, as a dropped upload source would. */
async function* failingAfter(bytes: Uint8Array, error: Error): AsyncGenerator<Uint8Array> {
  yield bytes.subarray(0, bytes.byteLength >> 2);
  yield bytes.subarray(bytes.byteLength >> 2, bytes.byteLength >> 1);
  throw error;
}

function formatSize(bytes: number): string {
  return bytes % (1 << 20) === 0 ? `${bytes / (1 << 20)} MiB` : `${bytes} byte`;
}
