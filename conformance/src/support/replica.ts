import type { ListLtxOptions, LtxFileInfo, LtxFileRef, ReplicaClient } from '@litestream-ts/core';
import { forEachConcurrently } from './concurrency.ts';

/** A file reference, shorter to write in tables of cases. */
export function ref(level: number, minTXID: number, maxTXID: number): LtxFileRef {
  return { level, minTXID, maxTXID };
}

/** The whole listing of one level as an array. */
export async function listAll(client: ReplicaClient, level: number, options?: ListLtxOptions): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const file of client.listLtxFiles(level, options)) files.push(file);
  return files;
}

/** `[minTXID, maxTXID]` pairs of a listing, for order assertions. */
export function ranges(files: readonly LtxFileRef[]): Array<[number, number]> {
  return files.map((f) => [f.minTXID, f.maxTXID]);
}

/** Small, distinct content for a file: its name plus `extra` filler bytes. */
export function contentFor(file: LtxFileRef, extra = 0): Uint8Array {
  return Buffer.concat([Buffer.from(`L${file.level} ${file.minTXID}-${file.maxTXID}|`), Buffer.alloc(extra, file.minTXID & 0xff)]);
}

/** Writes each file with `contentFor`, a few at a time, so remote stores stay reasonably fast. */
export async function writeFiles(client: ReplicaClient, files: readonly LtxFileRef[], concurrency = 16): Promise<void> {
  await forEachConcurrently(files, concurrency, async (file) => {
    await client.writeLtxFile(file, contentFor(file));
  });
}
