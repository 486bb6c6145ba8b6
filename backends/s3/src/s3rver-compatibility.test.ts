import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3RequestRecord } from '@litestream-ts/testcontainers';
import { LtxDecoder } from '@litestream-ts/core';
import { S3RequestError } from './s3-errors.ts';
import { collect, encodeLtxFile, pseudoRandomBuffer, readAll } from './test-support/ltx-files.ts';
import { clientOn, startS3Fixture, uniqueBucket } from './test-support/s3-fixture.ts';

// s3rver stores aws-chunked bodies with their chunk framing still inside and reports success:
// the way S3-compatible providers broke Litestream (InvalidContentEncoding, MalformedTrailerError,
// or silently corrupted objects). It also checks SigV4 signatures.
const fixture = await startS3Fixture('s3rver');
afterAll(() => fixture.service?.stop());
const bucket = uniqueBucket('s3rver');
if (fixture.service) await fixture.service.createBucket(bucket);

/** Requests that would make a non-AWS store mangle or refuse the body. */
function chunkedOrTrailing(requests: readonly S3RequestRecord[]): S3RequestRecord[] {
  return requests.filter(
    (r) =>
      /aws-chunked/i.test(r.headers['content-encoding'] ?? '') ||
      r.headers['x-amz-trailer'] !== undefined ||
      r.headers['x-amz-decoded-content-length'] !== undefined ||
      /STREAMING-/.test(r.headers['x-amz-content-sha256'] ?? ''),
  );
}

describe.skipIf(fixture.service === undefined)(`S3ReplicaClient on s3rver${fixture.skipReason ? ` (skipped: ${fixture.skipReason})` : ''}`, () => {
  const service = fixture.service!;
  beforeEach(() => service.clearRequests());

  it('uploads LTX files and a multi-MiB file that read back byte for byte, with no aws-chunked body or trailer', async () => {
    const client = clientOn(service, bucket, 'regression');
    const timestamp = new Date('2025-01-02T03:04:05.678Z');
    const files = [
      { ref: { level: 9, minTXID: 1, maxTXID: 3 }, data: await encodeLtxFile({ minTXID: 1, maxTXID: 3, pageCount: 3, timestamp }) },
      { ref: { level: 0, minTXID: 4, maxTXID: 4 }, data: await encodeLtxFile({ minTXID: 4, maxTXID: 4, pageCount: 1, timestamp }) },
      { ref: { level: 9, minTXID: 1, maxTXID: 900 }, data: await encodeLtxFile({ minTXID: 1, maxTXID: 900, pageCount: 900, timestamp }) },
      // 3 MiB in one PutObject and 12 MiB in three parts: both upload paths.
      { ref: { level: 1, minTXID: 5, maxTXID: 9 }, data: pseudoRandomBuffer(3 * 1024 * 1024 + 17, 5) },
      { ref: { level: 2, minTXID: 5, maxTXID: 20 }, data: pseudoRandomBuffer(12 * 1024 * 1024 + 3, 6) },
    ];
    for (const { ref, data } of files) {
      // Streamed in odd-sized chunks, as the engine hands files over.
      const chunks = Array.from({ length: Math.ceil(data.byteLength / 65_521) }, (_, i) => data.subarray(i * 65_521, (i + 1) * 65_521));
      const written = await client.writeLtxFile(ref, Readable.from(chunks, { objectMode: false }), { timestamp });
      expect(written.size).toBe(data.byteLength);
    }
    for (const { ref, data } of files) {
      const back = await readAll(await client.openLtxFile(ref));
      expect(back.byteLength, `size of level ${ref.level} ${ref.minTXID}-${ref.maxTXID}`).toBe(data.byteLength);
      expect(back.equals(data), `content of level ${ref.level} ${ref.minTXID}-${ref.maxTXID}`).toBe(true);
    }
    // The biggest snapshot decodes with both checksums intact.
    const decoder = new LtxDecoder(await client.openLtxFile(files[2]!.ref));
    await decoder.readHeader();
    let pages = 0;
    for await (const _ of decoder.pages()) pages++;
    expect(pages).toBe(900);

    const puts = service.requests().filter((r) => r.method === 'PUT');
    expect(puts.filter((r) => r.query.partNumber !== undefined)).toHaveLength(3);
    expect(puts.length).toBeGreaterThanOrEqual(files.length - 1 + 3);
    expect(chunkedOrTrailing(service.requests())).toEqual([]);
    await client.close();
  });

  it('stores litestream-timestamp metadata as Litestream writes it and lists it back with useMetadata', async () => {
    const client = clientOn(service, bucket, 'timestamps');
    const ref = { level: 9, minTXID: 1, maxTXID: 2 };
    await client.writeLtxFile(ref, await encodeLtxFile({ minTXID: 1, maxTXID: 2, pageCount: 2, timestamp: new Date(0) }), {
      timestamp: new Date('2025-06-07T08:09:10.120Z'),
    });
    const head = await client.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: client.layout.ltxKey(ref) }));
    expect(head.Metadata?.['litestream-timestamp']).toBe('2025-06-07T08:09:10.12Z');
    const [listed] = await collect(client.listLtxFiles(9, { useMetadata: true }));
    expect(listed?.createdAt.toISOString()).toBe('2025-06-07T08:09:10.120Z');
    // Without useMetadata the listing is one request and reports the store's modification time.
    service.clearRequests();
    const [fast] = await collect(client.listLtxFiles(9));
    expect(service.requests().map((r) => r.method)).toEqual(['GET']);
    expect(Math.abs(fast!.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('takes the timestamp from the LTX header when the caller gives none', async () => {
    const client = clientOn(service, bucket, 'header-timestamp');
    const ref = { level: 0, minTXID: 7, maxTXID: 7 };
    const timestamp = new Date('2024-12-31T23:59:59Z');
    const written = await client.writeLtxFile(ref, await encodeLtxFile({ minTXID: 7, maxTXID: 7, pageCount: 1, timestamp }));
    expect(written.createdAt.toISOString()).toBe(timestamp.toISOString());
    const head = await client.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: client.layout.ltxKey(ref) }));
    expect(head.Metadata?.['litestream-timestamp']).toBe('2024-12-31T23:59:59Z');
  });

  it('sends x-amz-content-sha256: UNSIGNED-PAYLOAD when sign-payload is false', async () => {
    const client = clientOn(service, bucket, 'unsigned', { signPayload: false });
    await client.writeLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }, pseudoRandomBuffer(10_000, 1));
    expect((await readAll(await client.openLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }))).equals(pseudoRandomBuffer(10_000, 1))).toBe(true);
    const put = service.requests().find((r) => r.method === 'PUT');
    expect(put?.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
  });

  it('wraps a refused request in an S3RequestError that carries neither the key id nor the secret', async () => {
    // s3rver checks the access key id (though, it turns out, not the signature itself).
    const [accessKeyId, secretAccessKey] = ['AKIAUNKNOWNKEY000001', 'another-secret-9876543210'];
    const client = clientOn(service, bucket, 'denied', { accessKeyId, secretAccessKey, maxAttempts: 1 });
    const error = await client.writeLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }, new Uint8Array(10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3RequestError);
    expect(error).toMatchObject({ status: 403, code: 'InvalidAccessKeyId', operation: 'PutObject', file: 'denied/0000/0000000000000001-0000000000000001.ltx' });
    const shown = inspect(error, { depth: 10, showHidden: true });
    expect(shown).not.toContain(secretAccessKey);
    expect(shown).not.toContain(accessKeyId);
  });

  it('control: the SDK with its default checksums sends aws-chunked with a trailer, and s3rver stores the framing', async () => {
    // Proves the assertions above can fail: this is the request shape that broke Litestream.
    const sdk = new S3Client({
      endpoint: service.endpoint,
      region: service.region,
      forcePathStyle: true,
      credentials: { accessKeyId: service.accessKeyId, secretAccessKey: service.secretAccessKey },
    });
    const body = pseudoRandomBuffer(100_000, 9);
    await sdk.send(new PutObjectCommand({ Bucket: bucket, Key: 'control/object', Body: Readable.from([body]), ContentLength: body.byteLength }));
    expect(chunkedOrTrailing(service.requests()).length).toBeGreaterThan(0);
    const stored = await readAll((await sdk.send(new GetObjectCommand({ Bucket: bucket, Key: 'control/object' }))).Body as Readable);
    expect(stored.equals(body)).toBe(false);
    sdk.destroy();
  });
});
