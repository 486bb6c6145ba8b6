import { Readable } from 'node:stream';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { LtxFileRef } from '@litestream-ts/core';
import type { S3ReplicaClient } from './s3-replica-client.ts';
import { createS3Client } from './s3-sdk-client.ts';
import { resolveS3Settings } from './s3-settings.ts';
import { collect, pseudoRandomBuffer, readAll } from './test-support/ltx-files.ts';
import { clientOn, startS3Fixture, uniqueBucket } from './test-support/s3-fixture.ts';

// What goes over the wire, read from the recording proxy in front of the server.
const fixture = await startS3Fixture();
afterAll(() => fixture.service?.stop());
const bucket = uniqueBucket('requests');
if (fixture.service) await fixture.service.createBucket(bucket);

const MiB = 1024 * 1024;
const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });

/** Counts the SDK commands a client sends, and the most of one kind in flight at once. */
function countCommands(client: S3ReplicaClient): { sent: Map<string, number>; maxInFlight: Map<string, number>; deleteBatchSizes: number[] } {
  const sent = new Map<string, number>();
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const deleteBatchSizes: number[] = [];
  client.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '?';
      sent.set(name, (sent.get(name) ?? 0) + 1);
      inFlight.set(name, (inFlight.get(name) ?? 0) + 1);
      maxInFlight.set(name, Math.max(maxInFlight.get(name) ?? 0, inFlight.get(name)!));
      const objects = (args.input as { Delete?: { Objects?: unknown[] } }).Delete?.Objects;
      if (name === 'DeleteObjectsCommand' && objects) deleteBatchSizes.push(objects.length);
      try {
        return await next(args);
      } finally {
        inFlight.set(name, inFlight.get(name)! - 1);
      }
    },
    { step: 'initialize', name: 'testCommandCounter' },
  );
  return { sent, maxInFlight, deleteBatchSizes };
}

describe.skipIf(fixture.service === undefined)(`S3 requests on ${fixture.service?.kind}${fixture.skipReason ? ` (skipped: ${fixture.skipReason})` : ''}`, () => {
  const service = fixture.service!;
  beforeEach(() => service.clearRequests());

  it('uploads a 40 MiB file as 8 parts of 5 MiB, at most 2 at a time, with part-size 5MB and concurrency 2', async () => {
    const client = clientOn(service, bucket, 'multipart', { partSize: '5MB', concurrency: 2 });
    expect(client.settings.partSize).toBe(5 * MiB);
    const counts = countCommands(client);
    const data = pseudoRandomBuffer(40 * MiB, 40);
    const chunks = Array.from({ length: 40 * 4 }, (_, i) => data.subarray(i * 256 * 1024, (i + 1) * 256 * 1024));
    const written = await client.writeLtxFile(ref(9, 1, 4000), Readable.from(chunks, { objectMode: false }), { timestamp: new Date() });
    expect(written.size).toBe(40 * MiB);

    const parts = service.requests().filter((r) => r.method === 'PUT' && r.query.partNumber !== undefined);
    expect(parts.map((r) => Number(r.query.partNumber)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(parts.map((r) => r.headers['content-length']))).toEqual(new Set([String(5 * MiB)]));
    expect(service.requests().filter((r) => r.method === 'POST' && 'uploads' in r.query)).toHaveLength(1);
    expect(service.requests().filter((r) => r.method === 'POST' && r.query.uploadId !== undefined)).toHaveLength(1);
    expect(counts.sent.get('UploadPartCommand')).toBe(8);
    expect(counts.maxInFlight.get('UploadPartCommand')).toBe(2);
    expect((await readAll(await client.openLtxFile(ref(9, 1, 4000)))).equals(data)).toBe(true);
    await client.deleteAll();
  });

  it('sends If-None-Match: * and If-Match: "<etag>" on conditional object writes and deletes', async () => {
    const client = clientOn(service, bucket, 'conditional');
    const created = await client.writeObject('lock.json', new TextEncoder().encode('{"token":1}'), { ifNoneMatch: '*' });
    expect(created.etag).toMatch(/^"[^"]+"$/);
    const replaced = await client.writeObject('lock.json', new TextEncoder().encode('{"token":2}'), { ifMatch: created.etag });
    await client.deleteObject('lock.json', { ifMatch: replaced.etag });
    await client.writeObject('other.json', new Uint8Array([1]));
    await client.deleteObject('other.json');

    const objectRequests = service.requests().filter((r) => r.path.endsWith('.json'));
    expect(objectRequests.map((r) => [r.method, r.path.slice(r.path.lastIndexOf('/') + 1), r.headers['if-none-match'], r.headers['if-match']])).toEqual([
      ['PUT', 'lock.json', '*', undefined],
      ['PUT', 'lock.json', undefined, created.etag],
      ['DELETE', 'lock.json', undefined, replaced.etag],
      ['PUT', 'other.json', undefined, undefined],
      ['DELETE', 'other.json', undefined, undefined],
    ]);
    await client.deleteAll();
  });

  it('reads objects back with their etag, writes unconditionally, and deleteAll removes them', async () => {
    const client = clientOn(service, bucket, 'objects');
    expect(await client.readObject('lock.json')).toBeUndefined();
    const { etag } = await client.writeObject('lock.json', new TextEncoder().encode('v1'));
    const stored = await client.readObject('lock.json');
    expect(Buffer.from(stored!.data).toString()).toBe('v1');
    expect(stored!.etag).toBe(etag);
    for (let level = 0; level <= 9; level++) expect(await collect(client.listLtxFiles(level))).toEqual([]);
    await client.deleteAll();
    expect(await client.readObject('lock.json')).toBeUndefined();
  });

  it('deletes 1,050 files in two DeleteObjects requests of 1,000 and 50 keys, each with Content-MD5, then checks they are gone', async () => {
    const client = clientOn(service, bucket, 'batch-delete');
    const files = Array.from({ length: 1050 }, (_, i) => ref(i % 2, i + 1, i + 1));
    const pending = [...files];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let file = pending.pop(); file; file = pending.pop()) await client.writeLtxFile(file, new Uint8Array([file.minTXID & 0xff]));
    }));
    const counts = countCommands(client);
    service.clearRequests();
    await client.deleteLtxFiles(files);

    expect(counts.deleteBatchSizes).toEqual([1000, 50]);
    // First attempts only: s3rver sometimes answers a large DeleteObjects with a 500 (its own
    // directory clean-up races) and the retry succeeds.
    const deletes = service.requests().filter((r) => r.method === 'POST' && 'delete' in r.query && r.headers['amz-sdk-request']?.startsWith('attempt=1;'));
    expect(deletes).toHaveLength(2);
    for (const request of deletes) expect(request.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    // The verification listing: one walk per level directory, paged by 1000.
    expect(counts.sent.get('ListObjectsV2Command')).toBeGreaterThanOrEqual(2);
    expect(await collect(client.listLtxFiles(0))).toEqual([]);
    expect(await collect(client.listLtxFiles(1))).toEqual([]);
  });

  it('pages listings with ContinuationToken and seeks with StartAfter', async () => {
    const client = clientOn(service, bucket, 'paging');
    const files = Array.from({ length: 1205 }, (_, i) => ref(3, i + 1, i + 1));
    const pending = [...files];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let file = pending.pop(); file; file = pending.pop()) await client.writeLtxFile(file, new Uint8Array([1]));
    }));
    service.clearRequests();
    const listed = await collect(client.listLtxFiles(3));
    expect(listed.map((f) => f.minTXID)).toEqual(files.map((f) => f.minTXID));
    const lists = service.requests().filter((r) => r.query['list-type'] === '2');
    expect(lists).toHaveLength(2);
    expect(lists[1]!.query['continuation-token']).toBeTruthy();

    service.clearRequests();
    const sought = await collect(client.listLtxFiles(3, { seek: 1200 }));
    expect(sought.map((f) => f.minTXID)).toEqual([1200, 1201, 1202, 1203, 1204, 1205]);
    const [seekList] = service.requests().filter((r) => r.query['list-type'] === '2');
    expect(seekList!.query['start-after']).toBe(`paging/0003/${(1200).toString(16).padStart(16, '0')}-`);
    await client.deleteAll();
  });

  it("adds a provider's headers (Tigris's X-Tigris-Consistent) to every request", async () => {
    const settings = { ...resolveS3Settings({ bucket, endpoint: service.endpoint, region: service.region }), headers: { 'x-tigris-consistent': 'true' } };
    const sdk = createS3Client(settings, async () => ({ accessKeyId: service.accessKeyId, secretAccessKey: service.secretAccessKey }));
    await sdk.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'none/' }));
    expect(service.requests().at(-1)?.headers['x-tigris-consistent']).toBe('true');
    sdk.destroy();
  });

  it('reports each request to onOperation with its kind and bytes', async () => {
    const seen: Array<[string, number, boolean]> = [];
    const client = clientOn(service, bucket, 'metrics', { onOperation: (op, bytes, error) => seen.push([op, bytes, error]) });
    await client.writeLtxFile(ref(0, 1, 1), new Uint8Array(1234));
    await readAll(await client.openLtxFile(ref(0, 1, 1)));
    await collect(client.listLtxFiles(0));
    await client.openLtxFile(ref(0, 2, 2)).catch(() => {});
    await client.deleteLtxFiles([ref(0, 1, 1)]);
    expect(seen).toEqual([
      ['PUT', 1234, false],
      ['GET', 1234, false],
      ['LIST', 0, false],
      ['GET', 0, false],
      ['DELETE', 0, false],
      ['LIST', 0, false],
    ]);
  });
});
