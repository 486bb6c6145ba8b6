import { expect, it } from 'vitest';
import { NotFoundError, UsageError, ltxFilename, type RawObjectInfo, type ReplicaClient } from '@litestream-ts/core';
import { CLOCK_TOLERANCE_MS, type CaseContext } from '../case-context.ts';
import { contentFor, ref } from '../support/replica.ts';
import { readAll } from '../support/streams.ts';

async function listRaw(client: ReplicaClient, prefix: string): Promise<RawObjectInfo[]> {
  const out: RawObjectInfo[] = [];
  for await (const object of client.listRawObjects(prefix)) out.push(object);
  return out;
}

/**
 * Reading objects by path below the replica path (`rawObjectReads`, used to restore Litestream
 * v0.3 generations). The contract has no raw write, so the objects read are the LTX files the
 * case writes, wherever the backend's layout puts them.
 */
export function rawObjectReadCases({ client }: CaseContext): void {
  const files = [ref(0, 1, 1), ref(0, 2, 2), ref(9, 1, 2)];

  it('lists every object below the replica path with its size and time, and reads it by path', async () => {
    const before = Date.now();
    for (const file of files) await client().writeLtxFile(file, contentFor(file, 1000));
    const all = await listRaw(client(), '');
    for (const file of files) {
      const matches = all.filter((o) => o.path.endsWith(`/${ltxFilename(file)}`) && o.size === contentFor(file, 1000).byteLength);
      expect(matches.length, `${file.level}/${ltxFilename(file)} in ${JSON.stringify(all.map((o) => o.path))}`).toBeGreaterThanOrEqual(1);
      const object = matches.find((o) => o.path.split('/').length >= 2)!;
      expect(Math.abs(object.modifiedAt.getTime() - before)).toBeLessThan(CLOCK_TOLERANCE_MS);
      expect((await readAll(await client().openRawObject(object.path))).equals(Buffer.from(contentFor(file, 1000)))).toBe(true);
      // A directory prefix lists it too; another directory's does not.
      const directory = object.path.slice(0, object.path.lastIndexOf('/') + 1);
      expect((await listRaw(client(), directory)).map((o) => o.path)).toContain(object.path);
      expect((await listRaw(client(), 'generations/')).map((o) => o.path)).not.toContain(object.path);
    }
  });

  it('lists nothing under a prefix that holds nothing, and a missing object is NotFoundError', async () => {
    expect(await listRaw(client(), 'generations/')).toEqual([]);
    await expect(client().openRawObject('generations/0123456789abcdef/snapshots/00000000.snapshot.lz4')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses paths that could leave the replica', async () => {
    for (const path of ['../x', '/etc/passwd', 'a//b', 'a/./b', '', 'a/']) await expect(client().openRawObject(path)).rejects.toBeInstanceOf(UsageError);
    for (const prefix of ['generations', '../', '/x/', 'a//']) await expect(listRaw(client(), prefix)).rejects.toBeInstanceOf(UsageError);
  });
}

/** A backend that does not declare `rawObjectReads` refuses both calls with a UsageError. */
export function rawObjectReadsRefusedCases({ client }: CaseContext): void {
  it('listRawObjects and openRawObject reject with UsageError', async () => {
    await expect(listRaw(client(), '')).rejects.toBeInstanceOf(UsageError);
    await expect(client().openRawObject('generations/x')).rejects.toBeInstanceOf(UsageError);
  });
}
