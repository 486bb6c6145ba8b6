import { beforeEach, expect, it } from 'vitest';
import { NotFoundError, UsageError, type OpenLtxOptions } from '@litestream-ts/core';
import type { CaseContext } from '../case-context.ts';
import { pseudoRandomBytes } from '../support/pseudo-random.ts';
import { ref } from '../support/replica.ts';
import { asBuffer, readAll } from '../support/streams.ts';

// Not a power of two, so ranges near the end cross no convenient boundary.
const FILE_SIZE = 300_007;
const FILE = ref(0, 1, 1);

/** Opening files: whole, by byte range, and missing. */
export function rangedReadCases({ client }: CaseContext): void {
  const content = asBuffer(pseudoRandomBytes(FILE_SIZE, 7));
  const read = async (options?: OpenLtxOptions): Promise<Buffer> => readAll(await client().openLtxFile(FILE, options));

  beforeEach(async () => {
    await client().writeLtxFile(FILE, content);
  });

  it('reads the whole file when no range is given', async () => {
    expect((await read()).equals(content)).toBe(true);
  });

  it('reads from an offset to the end of the file', async () => {
    expect((await read({ offset: 1 })).equals(content.subarray(1))).toBe(true);
    expect((await read({ offset: 123_457 })).equals(content.subarray(123_457))).toBe(true);
    expect((await read({ offset: FILE_SIZE - 1 })).equals(content.subarray(FILE_SIZE - 1))).toBe(true);
  });

  it('reads exactly size bytes from an offset', async () => {
    expect((await read({ offset: 0, size: 100 })).equals(content.subarray(0, 100))).toBe(true);
    expect((await read({ offset: 4096, size: 4096 })).equals(content.subarray(4096, 8192))).toBe(true);
    expect((await read({ offset: 77_777, size: 1 })).equals(content.subarray(77_777, 77_778))).toBe(true);
    expect((await read({ size: 10 })).equals(content.subarray(0, 10))).toBe(true);
  });

  it('yields no bytes when size is 0', async () => {
    expect(await read({ offset: 0, size: 0 })).toHaveLength(0);
    expect(await read({ offset: 5000, size: 0 })).toHaveLength(0);
  });

  it('yields no bytes for an offset at the end of the file', async () => {
    expect(await read({ offset: FILE_SIZE })).toHaveLength(0);
    expect(await read({ offset: FILE_SIZE, size: 10 })).toHaveLength(0);
  });

  it('yields no bytes for an offset past the end of the file', async () => {
    expect(await read({ offset: FILE_SIZE + 1 })).toHaveLength(0);
    expect(await read({ offset: FILE_SIZE * 10, size: 100 })).toHaveLength(0);
  });

  it('stops at the end of the file when size reaches past it', async () => {
    expect((await read({ offset: FILE_SIZE - 10, size: 1000 })).equals(content.subarray(FILE_SIZE - 10))).toBe(true);
    expect((await read({ offset: 0, size: FILE_SIZE * 2 })).equals(content)).toBe(true);
  });

  it('reassembles the whole file from consecutive ranges', async () => {
    const parts: Buffer[] = [];
    for (let offset = 0; offset < FILE_SIZE; offset += 65_536) parts.push(await read({ offset, size: 65_536 }));
    expect(Buffer.concat(parts).equals(content)).toBe(true);
  });

  it('rejects with NotFoundError when opening a file that does not exist', async () => {
    await expect(client().openLtxFile(ref(0, 2, 2))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client().openLtxFile(ref(0, 1, 2))).rejects.toBeInstanceOf(NotFoundError);
    // Same name on another level: levels are separate namespaces.
    await expect(client().openLtxFile(ref(1, 1, 1))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client().openLtxFile(ref(9, 1, 1), { offset: 10, size: 10 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rejects with NotFoundError even for an empty range of a missing file', async () => {
    await expect(client().openLtxFile(ref(5, 3, 3), { size: 0 })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('rejects a negative or fractional offset or size with UsageError', async () => {
    for (const options of [{ offset: -1 }, { offset: 1.5 }, { size: -1 }, { size: 0.5 }]) {
      await expect(client().openLtxFile(FILE, options), JSON.stringify(options)).rejects.toBeInstanceOf(UsageError);
    }
  });
}
