import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { LtxDecoder, LtxEncoder, type LtxFileRef, type ReplicaClient } from '@litestream-ts/core';
import type { CaseContext } from '../case-context.ts';
import { PseudoRandomBytes } from '../support/pseudo-random.ts';
import { listAll, ref } from '../support/replica.ts';
import { asBuffer } from '../support/streams.ts';

/** Real LTX files through the backend: what the encoder writes, the decoder reads back intact. */
export function codecRoundTripCases({ client, capabilities }: CaseContext): void {
  it('stores a 3-page snapshot from LtxEncoder that LtxDecoder reads back page for page, with both checksums', async () => {
    await roundTrip(client(), ref(9, 1, 1), { pageSize: 4096, pageCount: 3, seed: 3 }, capabilities.metadataTimestamps);
  });

  it('stores a 2048-page snapshot streamed from LtxEncoder straight into the replica and decodes it intact', async () => {
    await roundTrip(client(), ref(9, 1, 42), { pageSize: 4096, pageCount: 2048, seed: 2048 }, capabilities.metadataTimestamps);
  });
}

interface Snapshot {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly seed: number;
}

async function roundTrip(client: ReplicaClient, file: LtxFileRef, snapshot: Snapshot, metadataTimestamps: boolean): Promise<void> {
  const { pageSize, pageCount } = snapshot;
  const timestamp = new Date('2024-05-06T07:08:09.123Z');
  const pages = pagesOf(snapshot);

  // The encoder writes into a pipe that the replica consumes while the encoder is still running.
  const pipe = new PassThrough();
  const stored = client.writeLtxFile(file, pipe, { timestamp });
  let encoded;
  try {
    const encoder = new LtxEncoder(pipe, { pageSize, commit: pageCount, minTXID: file.minTXID, maxTXID: file.maxTXID, timestamp: timestamp.getTime() });
    for (const [i, page] of pages.entries()) await encoder.writePage(i + 1, page);
    encoded = await encoder.finish();
    if (!pipe.writableEnded) pipe.end();
  } catch (error) {
    pipe.destroy(error as Error);
    await stored.catch(() => {});
    throw error;
  }
  const written = await stored;
  expect(written.size).toBe(encoded.size);
  const [listed] = await listAll(client, file.level, { useMetadata: true });
  expect(listed?.size).toBe(encoded.size);
  if (metadataTimestamps) expect(listed?.createdAt.getTime()).toBe(timestamp.getTime());

  const decoder = new LtxDecoder(await client.openLtxFile(file), { file: `level ${file.level} ${file.minTXID}-${file.maxTXID}` });
  const header = await decoder.readHeader();
  expect(header).toMatchObject({ pageSize, commit: pageCount, minTXID: file.minTXID, maxTXID: file.maxTXID, timestamp: timestamp.getTime() });
  let pgno = 0;
  for await (const page of decoder.pages()) {
    pgno++;
    expect(page.pgno).toBe(pgno);
    // Comparing as a boolean keeps a mismatch from dumping two 4 KiB pages into the report.
    expect(asBuffer(page.data).equals(asBuffer(pages[pgno - 1]!)), `page ${pgno}`).toBe(true);
  }
  expect(pgno).toBe(pageCount);
  const trailer = await decoder.finish();
  expect(trailer.postApplyChecksum).toBe(encoded.postApplyChecksum);
  expect(trailer.fileChecksum).toBe(encoded.fileChecksum);
}

/** Page contents with a compressible half, so LZ4 blocks of varied sizes are exercised. */
function pagesOf({ pageSize, pageCount, seed }: Snapshot): Uint8Array[] {
  const random = new PseudoRandomBytes(seed);
  return Array.from({ length: pageCount }, (_, i) => {
    const page = new Uint8Array(pageSize);
    const noisy = (i * 97) % pageSize;
    page.set(random.next(noisy), 0);
    page.fill(i & 0xff, noisy);
    return page;
  });
}
