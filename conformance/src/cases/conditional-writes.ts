import { expect, it } from 'vitest';
import { isLitestreamError, PreconditionFailedError, UsageError, type ReplicaClient } from '@litestream-ts/core';
import type { CaseContext } from '../case-context.ts';
import { listAll } from '../support/replica.ts';
import { asBuffer } from '../support/streams.ts';

const LEASE = 'lock.json';
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * Checks that the store behind a client enforces preconditions before the conditional cases
 * run: a server that silently ignores `If-None-Match` (fauxqs, s3rver, some S3-compatible
 * providers) would make those cases fail for the wrong reason, or worse, pass vacuously.
 * Creates one object with `ifNoneMatch: '*'` twice and removes it again. Returns why the group
 * must be skipped, or undefined when the second create was refused as it should be.
 */
export async function probeConditionalWrites(client: ReplicaClient): Promise<string | undefined> {
  const name = `conformance-probe-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.json`;
  await client.writeObject(name, bytes('first'), { ifNoneMatch: '*' });
  try {
    await client.writeObject(name, bytes('second'), { ifNoneMatch: '*' });
    return 'the server ignores conditional headers (If-None-Match: * was accepted twice)';
  } catch (error) {
    if (isLitestreamError(error, PreconditionFailedError.errorCode)) return undefined;
    throw error;
  } finally {
    await client.deleteObject(name).catch(() => {});
  }
}

/** Small objects with etags and preconditions (the basis of leasing). Run only when declared. */
export function conditionalWriteCases({ client }: CaseContext): void {
  it('reads a missing object as undefined', async () => {
    expect(await client().readObject(LEASE)).toBeUndefined();
  });

  it('creates an object with ifNoneMatch "*" and reads it back with the same etag', async () => {
    const { etag } = await client().writeObject(LEASE, bytes('{"owner":"a"}'), { ifNoneMatch: '*' });
    expect(typeof etag).toBe('string');
    expect(etag.length).toBeGreaterThan(0);
    const stored = await client().readObject(LEASE);
    expect(stored && asBuffer(stored.data).toString()).toBe('{"owner":"a"}');
    expect(stored?.etag).toBe(etag);
  });

  it('rejects a second ifNoneMatch "*" write with PreconditionFailedError and keeps the first content', async () => {
    await client().writeObject(LEASE, bytes('first'), { ifNoneMatch: '*' });
    await expect(client().writeObject(LEASE, bytes('second'), { ifNoneMatch: '*' })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await text(client(), LEASE)).toBe('first');
  });

  it('replaces an object with ifMatch of its current etag, and the etag changes', async () => {
    const first = await client().writeObject(LEASE, bytes('v1'), { ifNoneMatch: '*' });
    const second = await client().writeObject(LEASE, bytes('v2'), { ifMatch: first.etag });
    expect(second.etag).not.toBe(first.etag);
    expect(await text(client(), LEASE)).toBe('v2');
    expect((await client().readObject(LEASE))?.etag).toBe(second.etag);
  });

  it('rejects ifMatch with a stale etag and keeps the current content', async () => {
    const first = await client().writeObject(LEASE, bytes('v1'), { ifNoneMatch: '*' });
    await client().writeObject(LEASE, bytes('v2'), { ifMatch: first.etag });
    await expect(client().writeObject(LEASE, bytes('v3'), { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await text(client(), LEASE)).toBe('v2');
  });

  it('rejects ifMatch on an object that does not exist', async () => {
    await expect(client().writeObject(LEASE, bytes('v1'), { ifMatch: 'no-such-etag' })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await client().readObject(LEASE)).toBeUndefined();
  });

  it('deletes an object with ifMatch of its current etag', async () => {
    const { etag } = await client().writeObject(LEASE, bytes('v1'), { ifNoneMatch: '*' });
    await client().deleteObject(LEASE, { ifMatch: etag });
    expect(await client().readObject(LEASE)).toBeUndefined();
    // Once deleted, the name can be created again.
    await client().writeObject(LEASE, bytes('v2'), { ifNoneMatch: '*' });
    expect(await text(client(), LEASE)).toBe('v2');
  });

  it('rejects a delete with a stale etag and keeps the object', async () => {
    const first = await client().writeObject(LEASE, bytes('v1'), { ifNoneMatch: '*' });
    await client().writeObject(LEASE, bytes('v2'), { ifMatch: first.etag });
    await expect(client().deleteObject(LEASE, { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await text(client(), LEASE)).toBe('v2');
  });

  it('lets exactly one of 8 racing ifNoneMatch "*" writers win', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => client().writeObject(LEASE, bytes(`writer ${i}`), { ifNoneMatch: '*' })),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, etag: r.value.etag }] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    const stored = await client().readObject(LEASE);
    expect(stored && asBuffer(stored.data).toString()).toBe(`writer ${winners[0]!.i}`);
    expect(stored?.etag).toBe(winners[0]!.etag);
  });

  it('lets exactly one of 8 racing ifMatch writers holding the same etag win', async () => {
    const { etag } = await client().writeObject(LEASE, bytes('base'), { ifNoneMatch: '*' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => client().writeObject(LEASE, bytes(`writer ${i}`), { ifMatch: etag })));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    expect(await text(client(), LEASE)).toBe(`writer ${winners[0]}`);
  });

  it('keeps objects separate: two names, two etags, independent preconditions', async () => {
    const a = await client().writeObject('a.json', bytes('a'), { ifNoneMatch: '*' });
    await client().writeObject('b.json', bytes('b'), { ifNoneMatch: '*' });
    await client().writeObject('a.json', bytes('a2'), { ifMatch: a.etag });
    expect(await text(client(), 'b.json')).toBe('b');
  });

  it('never shows objects in LTX listings', async () => {
    await client().writeObject(LEASE, bytes('x'), { ifNoneMatch: '*' });
    for (let level = 0; level <= 9; level++) expect(await listAll(client(), level)).toEqual([]);
  });

  it('removes objects in deleteAll', async () => {
    await client().writeObject(LEASE, bytes('x'), { ifNoneMatch: '*' });
    await client().deleteAll();
    expect(await client().readObject(LEASE)).toBeUndefined();
  });

  it('rejects object names with a path separator or an .ltx suffix with UsageError', async () => {
    for (const name of ['a/b', '../x', '', '0000000000000001-0000000000000001.ltx']) {
      await expect(client().readObject(name), name).rejects.toBeInstanceOf(UsageError);
      await expect(client().writeObject(name, bytes('x')), name).rejects.toBeInstanceOf(UsageError);
    }
  });
}

/** Cases for a backend that declares no conditional writes: conditions must be refused, not ignored. */
export function conditionalWritesRefusedCases({ client }: CaseContext): void {
  it('rejects writeObject and deleteObject with a condition with UsageError, and stores nothing', async () => {
    await expect(client().writeObject(LEASE, bytes('x'), { ifNoneMatch: '*' })).rejects.toBeInstanceOf(UsageError);
    await expect(client().writeObject(LEASE, bytes('x'), { ifMatch: '1' })).rejects.toBeInstanceOf(UsageError);
    expect(await client().readObject(LEASE)).toBeUndefined();
    await client().writeObject(LEASE, bytes('kept'));
    await expect(client().deleteObject(LEASE, { ifMatch: 'any' })).rejects.toBeInstanceOf(UsageError);
    expect(await text(client(), LEASE)).toBe('kept');
  });
}

async function text(client: ReplicaClient, name: string): Promise<string | undefined> {
  const stored = await client.readObject(name);
  return stored && asBuffer(stored.data).toString();
}
