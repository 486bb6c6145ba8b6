import { afterAll, describe, expect, it } from 'vitest';
import type { LtxFileRef } from '@litestream-ts/core';
import { DeleteFailedError, DeleteNotPerformedError } from './s3-errors.ts';
import type { S3ReplicaClient } from './s3-replica-client.ts';
import { clientOn, startS3Fixture, uniqueBucket } from './test-support/s3-fixture.ts';
import { collect } from './test-support/ltx-files.ts';

const fixture = await startS3Fixture();
afterAll(() => fixture.service?.stop());
const bucket = uniqueBucket('deletes');
if (fixture.service) await fixture.service.createBucket(bucket);

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });

/** Makes DeleteObjects answer like a misbehaving provider, without sending it. */
function fakeDeleteObjects(client: S3ReplicaClient, answer: (keys: string[]) => object): void {
  client.s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'DeleteObjectsCommand') return next(args);
      const keys = ((args.input as { Delete: { Objects: { Key: string }[] } }).Delete.Objects ?? []).map((o) => o.Key);
      return { output: { $metadata: { httpStatusCode: 200 }, ...answer(keys) }, response: {} };
    },
    { step: 'initialize', name: 'testFakeDeleteObjects' },
  );
}

describe.skipIf(fixture.service === undefined)(`batch deletes on ${fixture.service?.kind}${fixture.skipReason ? ` (skipped: ${fixture.skipReason})` : ''}`, () => {
  const service = fixture.service!;

  it('fails when the store reports objects deleted but still lists them (as Cloudflare R2 has done)', async () => {
    const client = clientOn(service, bucket, 'r2-like');
    await client.writeLtxFile(ref(0, 1, 1), new Uint8Array([1]));
    await client.writeLtxFile(ref(0, 2, 2), new Uint8Array([2]));
    await client.writeLtxFile(ref(0, 3, 3), new Uint8Array([3]));
    fakeDeleteObjects(client, (keys) => ({ Deleted: keys.map((Key) => ({ Key })) }));
    const error = await client.deleteLtxFiles([ref(0, 1, 1), ref(0, 3, 3)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeleteNotPerformedError);
    expect((error as DeleteNotPerformedError).keys).toEqual(['r2-like/0000/0000000000000001-0000000000000001.ltx', 'r2-like/0000/0000000000000003-0000000000000003.ltx']);
    expect((error as Error).message).toMatch(/reported 2 object\(s\) deleted but still lists them/);
  });

  it('can skip the check when asked', async () => {
    const client = clientOn(service, bucket, 'unchecked', { verifyDeletes: false });
    await client.writeLtxFile(ref(0, 1, 1), new Uint8Array([1]));
    fakeDeleteObjects(client, (keys) => ({ Deleted: keys.map((Key) => ({ Key })) }));
    await client.deleteLtxFiles([ref(0, 1, 1)]);
  });

  it('surfaces every per-key error of DeleteObjects with its key and code', async () => {
    const client = clientOn(service, bucket, 'key-errors');
    fakeDeleteObjects(client, (keys) => ({ Errors: keys.map((Key) => ({ Key, Code: 'AccessDenied', Message: 'Access Denied' })) }));
    const error = await client.deleteLtxFiles([ref(2, 5, 6), ref(2, 7, 8)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeleteFailedError);
    expect((error as DeleteFailedError).failures).toEqual([
      { key: 'key-errors/0002/0000000000000005-0000000000000006.ltx', code: 'AccessDenied', message: 'Access Denied' },
      { key: 'key-errors/0002/0000000000000007-0000000000000008.ltx', code: 'AccessDenied', message: 'Access Denied' },
    ]);
    expect((error as Error).message).toContain('key-errors/0002/0000000000000005-0000000000000006.ltx: AccessDenied (Access Denied)');
  });

  it('deleteAll at the bucket root removes only level prefixes and small objects, nothing else', async () => {
    const rootBucket = uniqueBucket('root');
    await service.createBucket(rootBucket);
    const root = clientOn(service, rootBucket, '');
    const neighbour = clientOn(service, rootBucket, 'other-app');
    await root.writeLtxFile(ref(0, 1, 1), new Uint8Array([1]));
    await root.writeLtxFile(ref(9, 1, 5), new Uint8Array([2]));
    await root.writeObject('lock.json', new Uint8Array([3]));
    await neighbour.writeLtxFile(ref(0, 1, 1), new Uint8Array([4]));
    expect(root.layout.ltxKey(ref(9, 1, 5))).toBe('0009/0000000000000001-0000000000000005.ltx');
    await root.deleteAll();
    for (const level of [0, 9]) expect(await collect(root.listLtxFiles(level))).toEqual([]);
    expect(await root.readObject('lock.json')).toBeUndefined();
    expect((await collect(neighbour.listLtxFiles(0))).map((f) => f.minTXID)).toEqual([1]);
  });
});
