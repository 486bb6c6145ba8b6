import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StorageTimeoutError, type LtxFileRef } from '@litestream-ts/core';
import { NatsRequestError } from './nats-errors.ts';
import { NatsReplicaClient } from './nats-replica-client.ts';
import { resolveNatsSettings } from './nats-settings.ts';
import { clientOn, startNatsFixture, uniqueBucket } from './test-support/nats-fixture.ts';
import { collect } from '../../../packages/core/src/test-support/streams.ts';

// nats-server runs as a local process: SIGSTOP freezes it while our connection stays open (no
// answer, no disconnect), SIGCONT brings it back.
const fixture = await startNatsFixture();
afterAll(() => fixture.service?.stop());

const REQUEST_TIMEOUT = 1000;
const ref = (minTXID: number): LtxFileRef => ({ level: 0, minTXID, maxTXID: minTXID });


describe('NatsReplicaClient timeouts', () => {
  it('takes connect-timeout and request-timeout over Litestream\'s timeout, each for its own part', () => {
    const both = resolveNatsSettings({ bucket: 'b', timeoutMs: 7000 });
    expect([both.connectTimeoutMs, both.timeoutMs]).toEqual([7000, 7000]);
    const split = resolveNatsSettings({ bucket: 'b', timeoutMs: 7000, connectTimeout: 1500, requestTimeout: 2500 });
    expect([split.connectTimeoutMs, split.timeoutMs]).toEqual([1500, 2500]);
    expect(new NatsReplicaClient({ bucket: 'b', requestTimeout: 2500 }).timeouts.requestTimeout).toBe(2500);
  });

  it('gives up on a host that accepts TCP but never speaks NATS after connect-timeout', async () => {
    const silent: Server = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const client = new NatsReplicaClient({ server: `nats://127.0.0.1:${port}`, bucket: 'b', connectTimeout: 500, requestTimeout: 10_000 });
    const started = Date.now();
    const error = await client.writeLtxFile(ref(1), Buffer.from('x')).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(NatsRequestError);
    expect(error?.message).toMatch(/timed out after 500 ms|no answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    await client.close();
    silent.close();
  });
});

if (fixture.service === undefined || fixture.service.pid === undefined) {
  describe.skip(`NatsReplicaClient against a frozen server (skipped: ${fixture.skipReason ?? 'no server process'})`, () => {
    it('needs nats-server', () => {});
  });
} else {
  const service = fixture.service;
  let frozen: number | undefined;
  afterEach(() => {
    if (frozen !== undefined) process.kill(frozen, 'SIGCONT');
    frozen = undefined;
  });

  describe('NatsReplicaClient against a server that stops answering', () => {
    it('fails every kind of call within the request timeout, then works again once the server answers', async () => {
      const client = clientOn(service, uniqueBucket('frozen'), { requestTimeout: REQUEST_TIMEOUT });
      await client.writeLtxFile(ref(1), Buffer.from('before the stall'));
      frozen = service.pid!;
      process.kill(frozen, 'SIGSTOP');
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['write', () => client.writeLtxFile(ref(2), Buffer.alloc(1 << 20, 2))],
        ['list', () => collect(client.listLtxFiles(0))],
        ['read', async () => collect(await client.openLtxFile(ref(1)))],
        ['delete', () => client.deleteLtxFiles([ref(1)])],
        ['object read', () => client.readObject('lock.json')],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        const error = await call().then(
          () => new Error(`${name} succeeded against a frozen server`),
          (e: unknown) => e as Error,
        );
        const took = Date.now() - started;
        // nats.js's own request timeout and the call's inactivity clock are both 1 s: either may speak.
        expect(error instanceof StorageTimeoutError || error instanceof NatsRequestError, `${name}: ${error.message}`).toBe(true);
        expect(error.message, name).toMatch(/made no progress for 1s|no answer within 1000 ms|timed out/);
        expect(took, name).toBeLessThan(REQUEST_TIMEOUT + 3000);
      }
      process.kill(frozen, 'SIGCONT');
      frozen = undefined;
      await client.writeLtxFile(ref(2), Buffer.from('after the stall'));
      expect((await collect(client.listLtxFiles(0))).map((f) => f.minTXID)).toEqual([1, 2]);
      await client.close();
    }, 60_000);
  });
}
