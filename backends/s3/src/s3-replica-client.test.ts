import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { LtxDecoder, LtxEncoder, NotFoundError, type LtxFileRef } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import type { S3ReplicaClient } from './s3-replica-client.ts';
import { collect } from './test-support/ltx-files.ts';
import { clientOn, startS3Fixture, uniqueBucket } from './test-support/s3-fixture.ts';

// The server is started while the file is collected: the suite asks a client for its
// capabilities (and probes conditional writes) before it registers its cases.
const fixture = await startS3Fixture();
afterAll(() => fixture.service?.stop());

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

if (fixture.service === undefined) {
  describe.skip(`S3ReplicaClient conformance (skipped: ${fixture.skipReason})`, () => {
    it('needs an S3 server', () => {});
  });
} else {
  const service = fixture.service;
  const bucket = uniqueBucket('conformance');
  await service.createBucket(bucket);
  let n = 0;
  const run = `run-${Date.now().toString(36)}`;

  runReplicaClientConformance(`S3ReplicaClient on ${service.kind}`, {
    makeClient: () => clientOn(service, bucket, `${run}/client-${++n}`),
    additionalTests: (getClient) => s3Facts(() => getClient() as S3ReplicaClient),
  });
}

function s3Facts(client: () => S3ReplicaClient): void {
  it('stores files under <path>/<level as 4 hex digits>/<min>-<max>.ltx', async () => {
    await client().writeLtxFile(ref(9, 1, 0xff), bytes('snapshot'));
    await client().writeLtxFile(ref(0, 2, 2), bytes('l0'));
    const keys: string[] = [];
    for (const level of ['0000', '0009']) {
      const listed = await client().s3.send(new ListObjectsV2Command({ Bucket: client().settings.bucket, Prefix: `${client().layout.path}/${level}/` }));
      keys.push(...(listed.Contents ?? []).map((o) => o.Key!.slice(client().layout.path.length + 1)));
    }
    expect(keys).toEqual(['0000/0000000000000002-0000000000000002.ltx', '0009/0000000000000001-00000000000000ff.ltx']);
  });

  // The suite's codec case compares a plain listing's createdAt with the LTX timestamp; S3 lists
  // LastModified unless asked for metadata (as the contract says), so this case does the same
  // round trip with useMetadata.
  it('streams an LtxEncoder snapshot into the replica, lists its LTX timestamp with useMetadata, and decodes it intact', async () => {
    const file = ref(9, 1, 42);
    const timestamp = new Date('2024-05-06T07:08:09.123Z');
    const pipe = new PassThrough();
    const stored = client().writeLtxFile(file, pipe, { timestamp });
    const encoder = new LtxEncoder(pipe, { pageSize: 4096, commit: 2048, minTXID: 1, maxTXID: 42, timestamp: timestamp.getTime() });
    for (let pgno = 1; pgno <= 2048; pgno++) await encoder.writePage(pgno, Buffer.alloc(4096, pgno & 0xff));
    const encoded = await encoder.finish();
    pipe.end();
    expect((await stored).size).toBe(encoded.size);
    const [listed] = await collect(client().listLtxFiles(9, { useMetadata: true }));
    expect(listed).toMatchObject({ size: encoded.size, createdAt: timestamp });
    const decoder = new LtxDecoder(await client().openLtxFile(file));
    expect(await decoder.readHeader()).toMatchObject({ commit: 2048, timestamp: timestamp.getTime() });
    let pages = 0;
    for await (const page of decoder.pages()) expect(page.data[0], `page ${++pages}`).toBe(pages & 0xff);
    expect(pages).toBe(2048);
  });

  it('names the key in the NotFoundError of a missing file', async () => {
    const error = await client().openLtxFile(ref(3, 5, 6)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).file).toBe(`${client().layout.path}/0003/0000000000000005-0000000000000006.ltx`);
  });
}
