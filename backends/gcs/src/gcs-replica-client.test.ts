import { afterAll, expect, it } from 'vitest';
import { NotFoundError, type LtxFileRef } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import { startGcs } from '../../../testcontainers/src/gcs.ts';
import { GcsReplicaClient } from './gcs-replica-client.ts';

// Started while the file is collected: the suite asks a client for its capabilities (and probes
// conditional writes for real) before it registers its cases.
const service = await startGcs();
afterAll(() => service.stop());

const bucket = `conformance-${Date.now().toString(36)}`;
await service.createBucket(bucket);
const run = `run-${Date.now().toString(36)}`;
let n = 0;
const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });

runReplicaClientConformance(`GcsReplicaClient on ${service.kind}`, {
  makeClient: () => new GcsReplicaClient({ bucket, path: `${run}/client-${++n}`, endpoint: service.endpoint }),
  additionalTests: (getClient) => {
    const client = (): GcsReplicaClient => getClient() as GcsReplicaClient;

    it('stores files under <path>/ltx/<level>/<min>-<max>.ltx with litestream-timestamp metadata', async () => {
      await client().writeLtxFile(ref(9, 1, 0xff), new TextEncoder().encode('snapshot'), { timestamp: new Date('2024-05-06T07:08:09.120Z') });
      const [files] = await client().storage.bucket(bucket).getFiles({ prefix: `${client().layout.path}/` });
      expect(files.map((f) => f.name.slice(client().layout.path.length + 1))).toEqual(['ltx/9/0000000000000001-00000000000000ff.ltx']);
      expect(files[0]!.metadata.metadata).toEqual({ 'litestream-timestamp': '2024-05-06T07:08:09.12Z' });
    });

    it('lists a seek with startOffset and writes LTX files with resumable uploads', async () => {
      service.requests(); // recorded by the fixture
      await client().writeLtxFile(ref(0, 5, 5), new Uint8Array([1]));
      const before = service.requests().length;
      for await (const _ of client().listLtxFiles(0, { seek: 5 })) void _;
      const list = service.requests().slice(before).find((r) => r.method === 'GET' && r.path.endsWith('/o'));
      expect(list?.query).toMatchObject({ prefix: `${client().layout.path}/ltx/0/`, startOffset: `${client().layout.path}/ltx/0/0000000000000005` });
      expect(service.requests().some((r) => r.query.uploadType === 'resumable' && r.query.name === `${client().layout.path}/ltx/0/0000000000000005-0000000000000005.ltx`)).toBe(true);
    });

    it('takes the endpoint from STORAGE_EMULATOR_HOST given as host:port', async () => {
      const saved = process.env.STORAGE_EMULATOR_HOST;
      process.env.STORAGE_EMULATOR_HOST = service.endpoint.replace(/^http:\/\//, '');
      let viaEnv: GcsReplicaClient;
      try {
        viaEnv = new GcsReplicaClient({ bucket, path: client().layout.path });
      } finally {
        if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
        else process.env.STORAGE_EMULATOR_HOST = saved;
      }
      expect(viaEnv.settings).toMatchObject({ endpoint: service.endpoint, credentials: 'anonymous' });
      await viaEnv.writeLtxFile(ref(0, 1, 1), new Uint8Array([1, 2]));
      const listed = [];
      for await (const file of client().listLtxFiles(0)) listed.push(file.size);
      expect(listed).toEqual([2]);
    });

    it('names the object in the NotFoundError of a missing file', async () => {
      const error = await client().openLtxFile(ref(3, 5, 6)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).file).toBe(`${client().layout.path}/ltx/3/0000000000000005-0000000000000006.ltx`);
    });
  },
});
