import { expect, it } from 'vitest';
import { UsageError, type ReplicaClient } from '@litestream-ts/core';
import type { CaseContext } from '../case-context.ts';
import { listAll } from '../support/replica.ts';
import { asBuffer } from '../support/streams.ts';

const MARKER = 'owner.json';
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * Small objects without conditions (the owner marker, for example), which every backend stores
 * whatever it declares, and which must keep working on servers that ignore preconditions.
 */
export function smallObjectCases({ client }: CaseContext): void {
  it('reads a missing object as undefined', async () => {
    expect(await client().readObject(MARKER)).toBeUndefined();
  });

  it('writes an object and reads back the same bytes with the etag the write returned', async () => {
    const { etag } = await client().writeObject(MARKER, bytes('{"database":"/a.db"}'));
    expect(typeof etag).toBe('string');
    expect(etag.length).toBeGreaterThan(0);
    const stored = await client().readObject(MARKER);
    expect(stored && asBuffer(stored.data).toString()).toBe('{"database":"/a.db"}');
    expect(stored?.etag).toBe(etag);
  });

  it('replaces an object on an unconditional write, and the etag changes', async () => {
    const first = await client().writeObject(MARKER, bytes('v1'));
    const second = await client().writeObject(MARKER, bytes('v2'));
    expect(second.etag).not.toBe(first.etag);
    expect(await text(client(), MARKER)).toBe('v2');
  });

  it('deletes unconditionally, and an unconditional delete of a missing object is not an error', async () => {
    await client().writeObject(MARKER, bytes('v1'));
    await client().deleteObject(MARKER);
    expect(await client().readObject(MARKER)).toBeUndefined();
    await client().deleteObject(MARKER);
  });

  it('keeps two objects apart', async () => {
    await client().writeObject('a.json', bytes('a'));
    await client().writeObject('b.json', bytes('b'));
    await client().writeObject('a.json', bytes('a2'));
    expect(await text(client(), 'a.json')).toBe('a2');
    expect(await text(client(), 'b.json')).toBe('b');
  });

  it('never shows objects in LTX listings', async () => {
    await client().writeObject(MARKER, bytes('x'));
    for (let level = 0; level <= 9; level++) expect(await listAll(client(), level)).toEqual([]);
  });

  it('removes objects in deleteAll', async () => {
    await client().writeObject(MARKER, bytes('x'));
    await client().deleteAll();
    expect(await client().readObject(MARKER)).toBeUndefined();
  });

  it('rejects object names with a path separator or an .ltx suffix with UsageError', async () => {
    for (const name of ['a/b', '../x', '..', '', '0000000000000001-0000000000000001.ltx']) {
      await expect(client().readObject(name), name).rejects.toBeInstanceOf(UsageError);
      await expect(client().writeObject(name, bytes('x')), name).rejects.toBeInstanceOf(UsageError);
      await expect(client().deleteObject(name), name).rejects.toBeInstanceOf(UsageError);
    }
  });
}

async function text(client: ReplicaClient, name: string): Promise<string | undefined> {
  const stored = await client.readObject(name);
  return stored && asBuffer(stored.data).toString();
}
