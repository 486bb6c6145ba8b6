import { afterAll, describe, expect, it } from 'vitest';
import { PreconditionFailedError, type LtxFileRef } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import type { NatsReplicaClient } from './nats-replica-client.ts';
import { clientOn, startNatsFixture, uniqueBucket } from './test-support/nats-fixture.ts';

// Started while the file is collected: the suite asks a client for its capabilities (and
// probes conditional writes against the server) before it registers its cases.
const fixture = await startNatsFixture();
afterAll(() => fixture.service?.stop());

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

if (fixture.service === undefined) {
  describe.skip(`NatsReplicaClient conformance (skipped: ${fixture.skipReason})`, () => {
    it('needs nats-server -js', () => {});
  });
} else {
  const service = fixture.service;
  // One bucket per client: Litestream's layout has no path, and deleteAll empties the bucket.
  runReplicaClientConformance('NatsReplicaClient on nats-server -js', {
    makeClient: () => clientOn(service, uniqueBucket('conformance')),
    additionalTests: (getClient) => natsFacts(() => getClient() as NatsReplicaClient),
  });

  describe('NatsReplicaClient with a path inside a shared bucket', () => {
    it('keeps two paths apart, and deleteAll of one leaves the other', async () => {
      const bucket = uniqueBucket('paths');
      const a = clientOn(service, bucket, { path: 'a' });
      const b = clientOn(service, bucket, { path: '/b/' });
      try {
        await a.writeLtxFile(ref(0, 1, 1), bytes('a'));
        await b.writeLtxFile(ref(0, 1, 1), bytes('b'));
        await b.writeObject('lock.json', bytes('{}'), { ifNoneMatch: '*' });
        await a.deleteAll();
        expect(await names(b)).toEqual(['b/lock.json', 'b/ltx/0/0000000000000001-0000000000000001.ltx']);
        expect(await names(a)).toEqual(['b/lock.json', 'b/ltx/0/0000000000000001-0000000000000001.ltx']);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}

function natsFacts(client: () => NatsReplicaClient): void {
  it('stores files as ltx/<level>/<min>-<max>.ltx with the Litestream-Timestamp header, as Litestream does', async () => {
    const timestamp = new Date('2024-05-06T07:08:09.120Z');
    await client().writeLtxFile(ref(9, 1, 0xff), bytes('snapshot'), { timestamp });
    await client().writeLtxFile(ref(0, 2, 2), bytes('l0'));
    expect(await names(client())).toEqual(['ltx/0/0000000000000002-0000000000000002.ltx', 'ltx/9/0000000000000001-00000000000000ff.ltx']);
    const info = await (await client().session()).os.info('ltx/9/0000000000000001-00000000000000ff.ltx');
    expect(info?.headers?.get('Litestream-Timestamp')).toBe('2024-05-06T07:08:09.12Z');
    expect(info?.metadata).toMatchObject({ 'litestream-min-txid': '0000000000000001', 'litestream-max-txid': '00000000000000ff' });
  });

  it('lists the header timestamp even without useMetadata (it comes with the listing)', async () => {
    const timestamp = new Date('2023-01-02T03:04:05.678Z');
    await client().writeLtxFile(ref(1, 5, 9), bytes('x'), { timestamp });
    const listed = [];
    for await (const f of client().listLtxFiles(1)) listed.push(f);
    expect(listed.map((f) => f.createdAt.toISOString())).toEqual([timestamp.toISOString()]);
  });

  it('ranged reads skip client-side and stop early on a multi-chunk object', async () => {
    const data = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    await client().writeLtxFile(ref(2, 1, 3), data);
    const part = Buffer.concat(await (await client().openLtxFile(ref(2, 1, 3), { offset: 300_000, size: 1000 })).toArray());
    expect(part.equals(data.subarray(300_000, 301_000))).toBe(true);
  });

  it('lets exactly one of 8 racing conditional deletes holding the same etag win', async () => {
    const { etag } = await client().writeObject('lock.json', bytes('x'), { ifNoneMatch: '*' });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client().deleteObject('lock.json', { ifMatch: etag })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    expect(await client().readObject('lock.json')).toBeUndefined();
  });

  it('refuses a conditional delete that races a replacement', async () => {
    const first = await client().writeObject('lock.json', bytes('v1'), { ifNoneMatch: '*' });
    const [write, del] = await Promise.allSettled([
      client().writeObject('lock.json', bytes('v2'), { ifMatch: first.etag }),
      client().deleteObject('lock.json', { ifMatch: first.etag }),
    ]);
    // Exactly one of the two holds the revision; the other must fail its precondition.
    expect([write.status, del.status].sort()).toEqual(['fulfilled', 'rejected']);
    const stored = await client().readObject('lock.json');
    if (write.status === 'fulfilled') expect(stored?.etag).toBe(write.value.etag);
    else expect(stored).toBeUndefined();
  });
}

async function names(client: NatsReplicaClient): Promise<string[]> {
  const objects = await (await client.session()).os.list();
  return objects.filter((o) => !o.deleted).map((o) => o.name).sort();
}
