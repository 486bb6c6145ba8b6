import type { LtxFileRef, ReplicaClient } from '@litestream-ts/core';
import { collect } from '../../../../packages/core/src/test-support/streams.ts';

export { collect };

/** A file reference, shorter to write in tests. */
export const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });

/** The level-0 file of one transaction. */
export const level0 = (txid: number): LtxFileRef => ref(0, txid, txid);

/** UTF-8 bytes of `text`. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Every item of an async iterable, as an array. */

/** `[minTXID, maxTXID]` of each file listed at `level`. */
export async function listAll(client: ReplicaClient, level: number): Promise<Array<[number, number]>> {
  return (await collect(client.listLtxFiles(level))).map((file) => [file.minTXID, file.maxTXID]);
}

/** Every byte of a stream, concatenated. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat((await collect(stream)).map((chunk) => Buffer.from(chunk)));
}
