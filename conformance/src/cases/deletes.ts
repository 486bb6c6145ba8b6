import { expect, it } from 'vitest';
import { NotFoundError, UsageError } from '@litestream-ts/core';
import type { CaseContext } from '../case-context.ts';
import { listAll, ranges, ref, writeFiles } from '../support/replica.ts';

/** Batch deletes and deleteAll. */
export function deleteCases({ client }: CaseContext): void {
  it('deletes the named files and leaves the others', async () => {
    await writeFiles(client(), [ref(0, 1, 1), ref(0, 2, 2), ref(0, 3, 3), ref(0, 4, 4)]);
    await client().deleteLtxFiles([ref(0, 1, 1), ref(0, 3, 3)]);
    expect(ranges(await listAll(client(), 0))).toEqual([[2, 2], [4, 4]]);
    await expect(client().openLtxFile(ref(0, 1, 1))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('ignores names that do not exist in a batch delete', async () => {
    await writeFiles(client(), [ref(0, 1, 1), ref(0, 2, 2)]);
    await client().deleteLtxFiles([ref(0, 99, 99), ref(0, 1, 1), ref(3, 1, 1), ref(0, 1, 2)]);
    expect(ranges(await listAll(client(), 0))).toEqual([[2, 2]]);
  });

  it('accepts a batch of names none of which exist, even on an empty replica', async () => {
    await client().deleteLtxFiles([ref(0, 1, 1), ref(9, 1, 5)]);
    expect(await listAll(client(), 0)).toEqual([]);
  });

  it('accepts an empty batch', async () => {
    await writeFiles(client(), [ref(0, 1, 1)]);
    await client().deleteLtxFiles([]);
    expect(ranges(await listAll(client(), 0))).toEqual([[1, 1]]);
  });

  it('deletes only on the named level', async () => {
    await writeFiles(client(), [ref(0, 1, 2), ref(1, 1, 2)]);
    await client().deleteLtxFiles([ref(0, 1, 2)]);
    expect(await listAll(client(), 0)).toEqual([]);
    expect(ranges(await listAll(client(), 1))).toEqual([[1, 2]]);
  });

  it('deletes a batch of 250 files across levels in one call', async () => {
    const files = Array.from({ length: 250 }, (_, i) => ref(i % 3, i + 1, i + 1));
    await writeFiles(client(), files);
    await client().deleteLtxFiles(files.filter((_, i) => i % 5 !== 0));
    const remaining = [...(await listAll(client(), 0)), ...(await listAll(client(), 1)), ...(await listAll(client(), 2))];
    expect(remaining.map((f) => f.minTXID).sort((a, b) => a - b)).toEqual(files.filter((_, i) => i % 5 === 0).map((f) => f.minTXID));
  });

  it('rejects an invalid reference anywhere in the batch with UsageError before deleting anything', async () => {
    await writeFiles(client(), [ref(0, 1, 1)]);
    await expect(client().deleteLtxFiles([ref(0, 1, 1), ref(0, 3, 2)])).rejects.toBeInstanceOf(UsageError);
    expect(ranges(await listAll(client(), 0))).toEqual([[1, 1]]);
  });

  it('leaves every level empty after deleteAll', async () => {
    const files = Array.from({ length: 10 }, (_, level) => [ref(level, 1, 1), ref(level, 2, 5)]).flat();
    await writeFiles(client(), files);
    await client().deleteAll();
    for (let level = 0; level <= 9; level++) expect(await listAll(client(), level), `level ${level}`).toEqual([]);
  });

  it('succeeds when deleteAll runs on an empty replica, or twice', async () => {
    await client().deleteAll();
    await client().deleteAll();
    expect(await listAll(client(), 0)).toEqual([]);
  });

  it('accepts new writes after deleteAll', async () => {
    await writeFiles(client(), [ref(0, 1, 1)]);
    await client().deleteAll();
    await writeFiles(client(), [ref(0, 2, 2)]);
    expect(ranges(await listAll(client(), 0))).toEqual([[2, 2]]);
  });
}
