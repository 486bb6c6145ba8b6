import { describe, expect, it } from 'vitest';
import { ChunkChannel } from './chunk-channel.ts';

const settled = async (p: Promise<unknown>): Promise<string> => {
  const marker = Symbol('pending');
  const result = await Promise.race([p.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r(marker), 20))]);
  return result === marker ? 'pending' : (result as string);
};

describe('ChunkChannel', () => {
  it('delivers chunks in order, and a write resolves only once the consumer asks for the next chunk', async () => {
    const channel = new ChunkChannel();
    const iterator = channel[Symbol.asyncIterator]();
    const first = channel.write(Buffer.from('a'));
    expect((await iterator.next()).value).toEqual(Buffer.from('a'));
    // The consumer holds the chunk: the producer may not reuse it yet.
    expect(await settled(first)).toBe('pending');
    const second = iterator.next();
    expect(await settled(first)).toBe('resolved');
    const write2 = channel.write(Buffer.from('b'));
    expect((await second).value).toEqual(Buffer.from('b'));
    channel.end();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await settled(write2)).toBe('resolved');
  });

  it("throws the producer's error into the consumer's iteration", async () => {
    const channel = new ChunkChannel();
    const reading = (async () => {
      const got: string[] = [];
      for await (const chunk of channel) got.push(Buffer.from(chunk).toString());
      return got;
    })();
    await channel.write(Buffer.from('x')).catch(() => {});
    channel.fail(new Error('encoder broke'));
    await expect(reading).rejects.toThrow('encoder broke');
  });

  it('rejects the pending and every later write when the consumer stops early', async () => {
    const channel = new ChunkChannel();
    const pending = channel.write(Buffer.from('a'));
    for await (const _ of channel) break;
    await expect(pending).rejects.toThrow(/consumer stopped/);
    await expect(channel.write(Buffer.from('b'))).rejects.toThrow(/consumer stopped/);
  });

  it('rejects the pending and every later write with the store error on abort', async () => {
    const channel = new ChunkChannel();
    const pending = channel.write(Buffer.from('a'));
    channel.abort(new Error('store refused'));
    await expect(pending).rejects.toThrow('store refused');
    await expect(channel.write(Buffer.from('b'))).rejects.toThrow('store refused');
  });
});
