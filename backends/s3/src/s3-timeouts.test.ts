import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { LtxFileRef } from '@litestream-ts/core';
import { collect } from './test-support/ltx-files.ts';
import { clientOn, startS3Fixture, uniqueBucket } from './test-support/s3-fixture.ts';
import { expectEachTimesOut } from '../../../packages/core/src/test-support/timed-failure.ts';

// fauxqs runs as a local process: SIGSTOP freezes it the way a hung server or a black-holed
// route does (the kernel still accepts connections, nothing ever answers), SIGCONT brings it back.
const fixture = await startS3Fixture('fauxqs');
afterAll(() => fixture.service?.stop());

const REQUEST_TIMEOUT = 1000;
const ref = (minTXID: number): LtxFileRef => ({ level: 0, minTXID, maxTXID: minTXID });

if (fixture.service === undefined || fixture.service.pid === undefined) {
  const why = fixture.skipReason ?? 'the S3 server is not a local process that can be frozen';
  describe.skip(`S3ReplicaClient timeouts (skipped: ${why})`, () => {
    it('needs a local S3 server process', () => {});
  });
} else {
  const service = fixture.service;
  const pid = service.pid!;
  const bucket = uniqueBucket('timeouts');
  await service.createBucket(bucket);
  let frozen = false;
  const freeze = () => {
    process.kill(pid, 'SIGSTOP');
    frozen = true;
  };
  const thaw = () => {
    if (frozen) process.kill(pid, 'SIGCONT');
    frozen = false;
  };
  afterEach(thaw);

  describe('S3ReplicaClient against a store that stops answering', () => {
    it('fails every kind of call with StorageTimeoutError within the request timeout, then works again once the store answers', async () => {
      // The SDK's own retries are left on: they must not stretch a stall past the timeout.
      const client = clientOn(service, bucket, 'stall', { requestTimeout: REQUEST_TIMEOUT, connectTimeout: REQUEST_TIMEOUT, maxAttempts: 10 });
      const big = Buffer.alloc(6 << 20, 7); // more than one part: a multipart upload
      await client.writeLtxFile(ref(1), Buffer.from('before the stall'));

      freeze();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['write', () => client.writeLtxFile(ref(2), Buffer.from('during the stall'))],
        ['multipart write', () => client.writeLtxFile(ref(3), big)],
        ['list', () => collect(client.listLtxFiles(0))],
        ['read', async () => collect(await client.openLtxFile(ref(1)))],
        ['delete', () => client.deleteLtxFiles([ref(1)])],
        ['object read', () => client.readObject('lock.json')],
      ];
      await expectEachTimesOut(calls, REQUEST_TIMEOUT, 'a frozen store');

      // Requests sent during the stall may still take effect once it answers (the timed-out
      // delete can land): a call that timed out is "maybe done", which the engine allows for.
      thaw();
      await client.writeLtxFile(ref(3), big);
      const [listed] = (await collect(client.listLtxFiles(0))).filter((f) => f.minTXID === 3);
      expect(listed?.size).toBe(big.byteLength);
      expect(Buffer.concat(await collect(await client.openLtxFile(ref(3)))).equals(big)).toBe(true);
      await client.close();
    }, 60_000);

    it('names the refused connection when nothing answers at all', async () => {
      const client = clientOn(service, bucket, 'refused', { endpoint: 'http://127.0.0.1:9', requestTimeout: REQUEST_TIMEOUT, maxAttempts: 10 });
      const error = await collect(client.listLtxFiles(0)).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/ECONNREFUSED/);
      await client.close();
    }, 30_000);

    it('gives the SDK the connect timeout, and each attempt a socket inactivity timeout of the request timeout', async () => {
      const client = clientOn(service, bucket, 'config', { connectTimeout: 1234, requestTimeout: 5678 });
      const handler = client.s3.config.requestHandler as unknown as { configProvider: Promise<{ connectionTimeout?: number; socketTimeout?: number }> };
      expect(await handler.configProvider).toMatchObject({ connectionTimeout: 1234, socketTimeout: 5678 });
      expect(client.timeouts).toEqual({ connectTimeout: 1234, requestTimeout: 5678 });
      await client.close();
    });
  });
}
