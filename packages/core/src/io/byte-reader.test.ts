import { describe, expect, it } from 'vitest';
import { ByteReader } from './byte-reader.ts';

/** A source that yields the given chunks, then overwrites each one it handed out (as a source reusing its buffers may). */
async function* reusing(chunks: number[][]): AsyncGenerator<Uint8Array> {
  for (const values of chunks) {
    const chunk = Buffer.from(values);
    yield chunk;
    chunk.fill(0xee);
  }
}

describe('ByteReader.ensure', () => {
  it('joins bytes split across chunks into one view, copying them before the source is asked again', async () => {
    const reader = new ByteReader(reusing([[1, 2, 3], [4], [5, 6, 7, 8, 9]]));
    expect(await reader.fill()).toBe(true);
    reader.skip(1);
    expect(await reader.ensure(5)).toBe(true);
    expect([...reader.peek()]).toEqual([2, 3, 4, 5, 6]);
    expect(reader.offset).toBe(1);
    reader.skip(5);
    // The rest of the chunk the join took the start of comes next, whole, without another join.
    expect(await reader.ensure(3)).toBe(true);
    expect([...reader.peek()]).toEqual([7, 8, 9]);
    expect(reader.offset).toBe(6);
  });

  it('serves the next chunk as it is when nothing is left of the current one (no copy per call)', async () => {
    const chunks = [Buffer.alloc(10, 1), Buffer.alloc(10, 2)];
    async function* source() {
      yield* chunks;
    }
    const reader = new ByteReader(source());
    expect(await reader.ensure(4)).toBe(true);
    reader.skip(10);
    expect(await reader.ensure(4)).toBe(true);
    const view = reader.peek();
    expect(view.byteLength).toBe(10);
    expect(view.buffer).toBe(chunks[1]!.buffer);
  });

  it('returns false at the end of the stream, leaving what there was buffered', async () => {
    const reader = new ByteReader(reusing([[1, 2], [3]]));
    expect(await reader.ensure(5)).toBe(false);
    expect(reader.buffered).toBe(3);
    expect([...reader.peek()]).toEqual([1, 2, 3]);
    expect(await reader.read(3)).toEqual(Buffer.from([1, 2, 3]));
    expect(await reader.atEnd()).toBe(true);
  });
});
