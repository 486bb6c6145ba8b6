import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StorageTimeoutError, type LtxFileRef } from '@litestream-ts/core';
import { clientOn, createContainer, startAzuriteFixture } from './test-support/azurite-fixture.ts';
import { timedFailure } from '../../../packages/core/src/test-support/timed-failure.ts';
import { collect } from '../../../packages/core/src/test-support/streams.ts';

// Azurite runs as a local process: SIGSTOP freezes it (connections are still accepted, nothing
// is answered), SIGCONT brings it back.
const fixture = await startAzuriteFixture();
afterAll(() => fixture.service?.stop());

const REQUEST_TIMEOUT = 1000;
const ref = (minTXID: number): LtxFileRef => ({ level: 0, minTXID, maxTXID: minTXID });


if (fixture.service === undefined) {
  describe.skip(`AbsReplicaClient timeouts (skipped: ${fixture.skipReason})`, () => {
    it('needs Azurite', () => {});
  });
} else {
  const service = fixture.service;
  const container = await createContainer(service, 'timeouts');
  let frozen = false;
  afterEach(() => {
    if (frozen) process.kill(service.pid, 'SIGCONT');
    frozen = false;
  });

  describe('AbsReplicaClient against a store that stops answering', () => {
    it('fails every kind of call with StorageTimeoutError within the request timeout, then works again once the store answers', async () => {
      // Retries on (five tries): they must not stretch a stall past the timeout.
      const client = clientOn(service, container, 'stall', { requestTimeout: REQUEST_TIMEOUT, maxTries: 5 });
      await client.writeLtxFile(ref(1), Buffer.from('before the stall'));
      process.kill(service.pid, 'SIGSTOP');
      frozen = true;
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['write', () => client.writeLtxFile(ref(2), Buffer.alloc(9 << 20, 2))],
        ['list', () => collect(client.listLtxFiles(0))],
        ['read', async () => collect(await client.openLtxFile(ref(1)))],
        ['delete', () => client.deleteLtxFiles([ref(1)])],
        ['object write', () => client.writeObject('lock.json', Buffer.from('{}'), { ifNoneMatch: '*' })],
      ];
      for (const [name, call] of calls) {
        const { error, took } = await timedFailure(call);
        expect(error, name).toBeInstanceOf(StorageTimeoutError);
        expect(took, name).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
        expect(took, name).toBeLessThan(REQUEST_TIMEOUT + 3000);
      }
      process.kill(service.pid, 'SIGCONT');
      frozen = false;
      // Requests sent during the stall may still take effect once it answers (the timed-out
      // delete of file 1 can land): a call that timed out is "maybe done".
      await client.writeLtxFile(ref(2), Buffer.from('after the stall'));
      expect((await collect(client.listLtxFiles(0))).map((f) => f.minTXID)).toContain(2);
      expect(Buffer.concat(await collect(await client.openLtxFile(ref(2)))).toString()).toBe('after the stall');
    }, 60_000);
  });

  describe('AbsReplicaClient connect timeout', () => {
    let silent: Server | undefined;
    const held: Socket[] = [];
    afterEach(async () => {
      for (const socket of held.splice(0)) socket.destroy();
      await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
    });

    it('gives up on a connection whose TLS handshake never finishes after the connect timeout, naming it', async () => {
      silent = createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silent!.listen(0, '127.0.0.1', resolve));
      const port = (silent.address() as { port: number }).port;
      // Two tries of 300 ms each, well within the (longer) request timeout.
      const client = clientOn(service, container, 'connect', { endpoint: `https://127.0.0.1:${port}/devstoreaccount1`, connectTimeout: 300, requestTimeout: 10_000, maxTries: 2, retryDelayInMs: 50 });
      const { error, took } = await timedFailure(() => collect(client.listLtxFiles(0)));
      expect((error as Error).message).toMatch(/could not connect to 127\.0\.0\.1:\d+ within 300ms \(connect-timeout\)/);
      expect(took).toBeLessThan(5000);
    }, 30_000);
  });
}
