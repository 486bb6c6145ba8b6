import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError, type LtxFileRef } from '@litestream-ts/core';
import { freePort } from '../../../testcontainers/src/ports.ts';
import { NatsRequestError } from './nats-errors.ts';
import { NatsReplicaClient } from './nats-replica-client.ts';
import { clientOn, startNatsFixture, uniqueBucket } from './test-support/nats-fixture.ts';

// Three servers for this file: JetStream (restarted mid-test), JetStream with users, and one without JetStream.
const USER = 'litestream';
const PASSWORD = 'correct-horse-battery';
const [plain, secured, noJetStream] = await Promise.all([
  startNatsFixture(),
  startNatsFixture({ users: [{ user: USER, password: PASSWORD }] }),
  startNatsFixture({ jetStream: false }),
]);
afterAll(() => Promise.all([plain.service?.stop(), secured.service?.stop(), noJetStream.service?.stop()]));

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const skipReason = plain.skipReason ?? secured.skipReason ?? noJetStream.skipReason;

/** Runs `run`, expects it to reject, and prints how long the error took to surface. */
async function timedFailure(label: string, run: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = performance.now();
  const error = await run().then(
    () => new Error('expected a failure'),
    (e: unknown) => e as Error,
  );
  const ms = Math.round(performance.now() - started);
  console.log(`[backend-nats] ${label}: surfaced after ${ms} ms: ${error.message}`);
  return { error, ms };
}

describe.skipIf(skipReason !== undefined)(`NatsReplicaClient against failing servers${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('keeps working after the server restarts mid-test (same port, same store)', async () => {
    const service = plain.service!;
    const client = clientOn(service, uniqueBucket('restart'));
    try {
      await client.writeLtxFile(ref(0, 1, 1), bytes('before'));
      const { etag } = await client.writeObject('lock.json', bytes('held'), { ifNoneMatch: '*' });
      await service.restart();
      const started = performance.now();
      // The first request may be issued while nats.js is still reconnecting: it waits, not fails.
      await client.writeLtxFile(ref(0, 2, 2), bytes('after'));
      console.log(`[backend-nats] first write after the restart took ${Math.round(performance.now() - started)} ms`);
      const listed = [];
      for await (const f of client.listLtxFiles(0)) listed.push(f.maxTXID);
      expect(listed).toEqual([1, 2]);
      expect(Buffer.concat(await (await client.openLtxFile(ref(0, 1, 1))).toArray()).toString()).toBe('before');
      // The lease survived the restart with its revision, so the holder can still renew it.
      await client.writeObject('lock.json', bytes('renewed'), { ifMatch: etag });
    } finally {
      await client.close();
    }
  });

  it('fails requests within the timeout while the server is down, and recovers when it is back', async () => {
    const service = plain.service!;
    const client = clientOn(service, uniqueBucket('outage'), { timeoutMs: 1500 });
    try {
      await client.writeLtxFile(ref(0, 1, 1), bytes('before'));
      await service.stopServer();
      const { error, ms } = await timedFailure('server down', () => client.writeLtxFile(ref(0, 2, 2), bytes('during')));
      expect(error.message).toMatch(/nats reconnect to nats:\/\/127\.0\.0\.1:\d+ failed: the connection was lost and not re-established within 1500 ms/);
      expect(ms).toBeLessThan(3000);
      await service.start();
      await client.writeLtxFile(ref(0, 2, 2), bytes('after'));
      const listed = [];
      for await (const f of client.listLtxFiles(0)) listed.push(f.maxTXID);
      expect(listed).toEqual([1, 2]);
    } finally {
      await client.close();
    }
  });

  it('reports wrong credentials without echoing them', async () => {
    const client = clientOn(secured.service!, uniqueBucket('auth'), { username: USER, password: 'wrong-password-123' });
    const { error, ms } = await timedFailure('wrong password', () => client.writeLtxFile(ref(0, 1, 1), bytes('x')));
    expect(error).toBeInstanceOf(NatsRequestError);
    expect((error as NatsRequestError).code).toBe('AUTHORIZATION_VIOLATION');
    expect(error.message).toMatch(/authorization violation: the server refused the credentials/);
    expect(error.message).toContain(secured.service!.url);
    expect(error.message).not.toContain('wrong-password-123');
    expect(ms).toBeLessThan(3000);
    await client.close();
  });

  it('connects with the right username and password, also given in the URL form', async () => {
    const { natsBackend } = await import('./nats-backend.ts');
    const url = `nats://${USER}:${PASSWORD}@127.0.0.1:${secured.service!.port}/${uniqueBucket('url-auth')}`;
    const client = natsBackend.fromURL(url) as NatsReplicaClient;
    try {
      await client.writeLtxFile(ref(0, 1, 1), bytes('x'));
      expect(client.describe()).not.toContain(PASSWORD);
    } finally {
      await client.close();
    }
  });

  it('reports an unreachable server (nothing listening) quickly', async () => {
    const port = await freePort();
    const client = new NatsReplicaClient({ server: `nats://127.0.0.1:${port}`, bucket: 'b', timeoutMs: 2000 });
    const { error, ms } = await timedFailure('connection refused', () => client.writeLtxFile(ref(0, 1, 1), bytes('x')));
    expect((error as NatsRequestError).code).toBe('CONNECTION_REFUSED');
    expect(error.message).toMatch(/connect to nats:\/\/127\.0\.0\.1:\d+ failed: connection refused/);
    expect(ms).toBeLessThan(2000);
    await client.close();
  });

  it('reports a host that accepts TCP but never speaks NATS after the timeout', async () => {
    const silent: Server = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const client = new NatsReplicaClient({ server: `nats://127.0.0.1:${port}`, bucket: 'b', timeoutMs: 1000 });
    try {
      const { error, ms } = await timedFailure('silent host', () => client.writeLtxFile(ref(0, 1, 1), bytes('x')));
      expect(error).toBeInstanceOf(NatsRequestError);
      expect(error.message).toMatch(/timed out after 1000 ms|no answer within 1000 ms/);
      expect(ms).toBeLessThan(4000);
    } finally {
      await client.close();
      silent.close();
    }
  });

  it('says JetStream is not enabled when the server runs without -js', async () => {
    const client = clientOn(noJetStream.service!, 'b', { timeoutMs: 2000 });
    const { error, ms } = await timedFailure('JetStream disabled', () => client.writeLtxFile(ref(0, 1, 1), bytes('x')));
    expect(error.message).toMatch(/open object store bucket "b" failed: JetStream is not enabled on the server/);
    expect(ms).toBeLessThan(3000);
    await client.close();
  });

  it('says the bucket is missing when it may not be created', async () => {
    const client = clientOn(plain.service!, uniqueBucket('missing'), { createBucket: false });
    const { error } = await timedFailure('missing bucket', () => client.openLtxFile(ref(0, 1, 1)));
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(/object store bucket "missing-[0-9a-f]+" does not exist/);
    await client.close();
  });

  it('refuses requests after close()', async () => {
    const client = clientOn(plain.service!, uniqueBucket('closed'));
    await client.writeLtxFile(ref(0, 1, 1), bytes('x'));
    await client.close();
    await expect(client.writeLtxFile(ref(0, 2, 2), bytes('y'))).rejects.toThrow(/client is closed/);
  });
});
