import { afterAll, describe, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError, type LtxFileRef } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import type { AbsReplicaClient } from './abs-replica-client.ts';
import { TIMESTAMP_METADATA_KEY } from './ltx-timestamp.ts';
import { clientOn, createContainer, startAzuriteFixture } from './test-support/azurite-fixture.ts';

// Started while the file is collected: the suite asks a client for its capabilities (and
// probes conditional writes) before it registers its cases.
const fixture = await startAzuriteFixture();
afterAll(() => fixture.service?.stop());

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

if (fixture.service === undefined) {
  describe.skip(`AbsReplicaClient conformance (skipped: ${fixture.skipReason})`, () => {
    it('needs Azurite', () => {});
  });
} else {
  const service = fixture.service;
  const container = await createContainer(service, 'conformance');
  let n = 0;
  runReplicaClientConformance('AbsReplicaClient on Azurite', {
    // A small page size makes every listing of more than two files page.
    makeClient: () => clientOn(service, container, `run/client-${++n}`, { listPageSize: 2 }),
    additionalTests: (getClient) => absFacts(() => getClient() as AbsReplicaClient),
  });
}

function absFacts(client: () => AbsReplicaClient): void {
  it('stores files under <path>/ltx/<level>/<min>-<max>.ltx with the litestreamtimestamp metadata', async () => {
    const timestamp = new Date('2024-05-06T07:08:09.120Z');
    await client().writeLtxFile(ref(9, 1, 0xff), bytes('snapshot'), { timestamp });
    await client().writeLtxFile(ref(0, 2, 2), bytes('l0'));
    const root = client().layout.path;
    const found: [string, string | undefined][] = [];
    for await (const item of client().container.listBlobsFlat({ prefix: `${root}/`, includeMetadata: true })) {
      found.push([item.name.slice(root.length + 1), item.metadata?.[TIMESTAMP_METADATA_KEY]]);
    }
    expect(found).toEqual([
      ['ltx/0/0000000000000002-0000000000000002.ltx', undefined],
      ['ltx/9/0000000000000001-00000000000000ff.ltx', '2024-05-06T07:08:09.12Z'],
    ]);
  });

  it('names the blob in the NotFoundError of a missing file', async () => {
    const error = await client().openLtxFile(ref(3, 5, 6)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).file).toBe(`${client().layout.path}/ltx/3/0000000000000005-0000000000000006.ltx`);
  });

  it('lets exactly one of five concurrent create-only writes win', async () => {
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => client().writeObject('lock.json', bytes(`owner-${i}`), { ifNoneMatch: '*' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
  });

  it('lists across pages in order with a seek', async () => {
    for (let i = 1; i <= 7; i++) await client().writeLtxFile(ref(1, i, i), bytes(`f${i}`));
    const listed: number[] = [];
    for await (const file of client().listLtxFiles(1, { seek: 3 })) listed.push(file.minTXID);
    expect(listed).toEqual([3, 4, 5, 6, 7]);
  });
}

describe.skipIf(fixture.service === undefined)('AbsReplicaClient at the container root', () => {
  it('deleteAll removes ltx/ and small objects but leaves unrelated blobs', async () => {
    const service = fixture.service!;
    const container = await createContainer(service, 'root');
    const client = clientOn(service, container, '');
    await client.writeLtxFile(ref(0, 1, 1), bytes('l0'));
    await client.writeObject('lock.json', bytes('{}'), { ifNoneMatch: '*' });
    await client.container.getBlockBlobClient('other/data.bin').upload('x', 1);
    await client.container.getBlockBlobClient('notes.ltx').upload('x', 1);
    await client.deleteAll();
    const left: string[] = [];
    for await (const item of client.container.listBlobsFlat()) left.push(item.name);
    expect(left).toEqual(['notes.ltx', 'other/data.bin']);
  });
});
