import { expect, it } from 'vitest';
import { NotFoundError } from '@litestream-ts/core';
import { skipNote, type CaseContext } from '../case-context.ts';
import { pseudoRandomBytes } from '../support/pseudo-random.ts';
import { listAll, ref } from '../support/replica.ts';
import { asBuffer, readAll } from '../support/streams.ts';

/** Longest a call may take to give up once its signal aborted: far beyond any honest abort. */
const ABORT_BOUND_MS = 5_000;

/**
 * Abandoning calls with an `AbortSignal`: each one rejects with the signal's reason at once,
 * whatever the store or the source is doing, and an abandoned write stores nothing.
 */
export function abortCases({ client, capabilities }: CaseContext): void {
  it('rejects every call whose signal is already aborted with its reason, and stores nothing', async () => {
    const reason = new Error('given up before starting');
    const signal = AbortSignal.abort(reason);
    const file = ref(0, 1, 1);
    await expect(client().writeLtxFile(file, pseudoRandomBytes(1_000, 1), { signal })).rejects.toBe(reason);
    await expect(listAll(client(), 0, { signal })).rejects.toBe(reason);
    await expect(client().openLtxFile(file, { signal })).rejects.toBe(reason);
    await expect(client().deleteLtxFiles([file], { signal })).rejects.toBe(reason);
    await expect(client().deleteAll({ signal })).rejects.toBe(reason);
    expect(await listAll(client(), 0)).toEqual([]);
    await expect(client().openLtxFile(file)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('abandons a write whose source is still producing: rejects at once, stores nothing new, and the previous file stays whole', async () => {
    const file = ref(0, 7, 7);
    const previous = pseudoRandomBytes(20_000, 2);
    await client().writeLtxFile(file, previous);
    const stalled = stalledSource(pseudoRandomBytes(256 * 1024, 3));
    const controller = new AbortController();
    const reason = new Error('stopped while uploading');
    const write = client().writeLtxFile(file, stalled.chunks, { signal: controller.signal });
    write.catch(() => {});
    await stalled.firstChunkTaken;
    const abortedAt = Date.now();
    controller.abort(reason);
    await expect(write).rejects.toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(ABORT_BOUND_MS);
    stalled.release();
    const listed = await listAll(client(), 0);
    expect(listed.map((f) => [f.minTXID, f.maxTXID, f.size])).toEqual([[7, 7, previous.byteLength]]);
    expect((await readAll(await client().openLtxFile(file))).equals(asBuffer(previous))).toBe(true);
  });

  it('abandons a download: the stream fails with the reason, and the client keeps working', async () => {
    const file = ref(0, 2, 3);
    await client().writeLtxFile(file, pseudoRandomBytes(2 * 1024 * 1024, 4));
    const controller = new AbortController();
    const reason = new Error('stopped while downloading');
    const stream = await client().openLtxFile(file, { signal: controller.signal });
    const reading = (async () => {
      for await (const _chunk of stream) controller.abort(reason);
    })();
    await expect(reading).rejects.toBe(reason);
    // Nothing the abandoned download left behind (a request on its closed handle) disturbs the next call.
    expect((await listAll(client(), 0)).map((f) => [f.minTXID, f.maxTXID])).toEqual([[2, 3]]);
  });

  it.skipIf(!capabilities.conditionalWrite)(`rejects small-object calls whose signal is aborted, and writes nothing${skipNote(capabilities, 'conditionalWrite')}`, async () => {
    const reason = new Error('given up');
    const signal = AbortSignal.abort(reason);
    await expect(client().writeObject('lock.json', Buffer.from('{}'), { ifNoneMatch: '*' }, { signal })).rejects.toBe(reason);
    await expect(client().readObject('lock.json', { signal })).rejects.toBe(reason);
    await expect(client().deleteObject('lock.json', undefined, { signal })).rejects.toBe(reason);
    expect(await client().readObject('lock.json')).toBeUndefined();
  });
}

/** A source that yields its first chunk, then waits until released (and then ends without more). */
function stalledSource(first: Uint8Array): { chunks: AsyncIterable<Uint8Array>; firstChunkTaken: Promise<void>; release: () => void } {
  let taken = (): void => {};
  const firstChunkTaken = new Promise<void>((resolve) => (taken = resolve));
  let release = (): void => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield first;
    taken();
    await released;
  }
  return { chunks: chunks(), firstChunkTaken, release };
}
