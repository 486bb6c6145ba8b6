import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import type { WebdavService } from '../../../testcontainers/src/webdav.ts';
import type { WebdavReplicaClient } from './webdav-replica-client.ts';
import { bytes, listAll, readAll, ref } from './test-support/replica-io.ts';
import { clientFor, webdavForFile, withWebdav } from './test-support/webdav-fixture.ts';

withWebdav(await webdavForFile(), 'WebdavReplicaClient', (dav) => {
  runReplicaClientConformance('WebdavReplicaClient', {
    makeClient: () => clientFor(dav),
    largeFileSize: 32 * 1024 * 1024,
    additionalTests: (getClient) => webdavFacts(dav, () => getClient() as WebdavReplicaClient),
  });

  describe('WebdavReplicaClient credentials', () => {
    it('names the refused credentials (401) without showing the password', async () => {
      const client = clientFor(dav, { password: 'not-the-password' });
      const error = (await listAll(client, 0).catch((e: unknown) => e)) as Error;
      expect(error.message).toMatch(/401.*webdav-username, webdav-password/);
      expect(error.message).not.toContain('not-the-password');
      await client.close();
    });
  });
});

function webdavFacts(service: WebdavService, client: () => WebdavReplicaClient): void {
  const onDisk = () => join(service.rootDir, client().layout.path);

  it("lays files out as Litestream's webdav replica: <path>/ltx/<level>/<minTXID>-<maxTXID>.ltx", async () => {
    await client().writeLtxFile(ref(0, 1, 2), bytes('a'));
    await client().writeLtxFile(ref(9, 1, 0x10), bytes('b'));
    await client().writeLtxFile(ref(3, 0xabc, 0x1_0000_0000), bytes('c'));
    const root = onDisk();
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();
    expect(files).toEqual([
      'ltx/0/0000000000000001-0000000000000002.ltx',
      'ltx/3/0000000000000abc-0000000100000000.ltx',
      'ltx/9/0000000000000001-0000000000000010.ltx',
    ]);
  });

  it('ignores temporary uploads, other names and collections in listings', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('real'));
    const dir = join(onDisk(), 'ltx/0');
    for (const name of ['.0000000000000003-0000000000000003.ltx.0123456789ab.tmp', '0000000000000004-0000000000000004.ltx.tmp', 'notes.txt']) {
      await writeFile(join(dir, name), 'junk');
    }
    expect(await listAll(client(), 0)).toEqual([[1, 1]]);
  });

  it('stages a large upload in a temporary file and sends it whole, with a Content-Length', async () => {
    const { WebdavReplicaClient: Client } = await import('./webdav-replica-client.ts');
    const small = new Client({ url: service.url, username: service.username, password: service.password, path: client().layout.path, memoryStagingLimit: 1024 });
    const data = Buffer.alloc(300_000, 5);
    await small.writeLtxFile(ref(1, 1, 5), data);
    expect((await readFile(join(onDisk(), 'ltx/1/0000000000000001-0000000000000005.ltx'))).equals(data)).toBe(true);
    await small.close();
  });

  it('leaves nothing behind when the source stream fails, and keeps the previous file whole', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('old'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(500_000).fill(1);
      throw new Error('source broke');
    }
    await expect(client().writeLtxFile(ref(0, 1, 1), failing())).rejects.toThrow('source broke');
    expect(await readdir(join(onDisk(), 'ltx/0'))).toEqual(['0000000000000001-0000000000000001.ltx']);
    expect((await readAll(await client().openLtxFile(ref(0, 1, 1)))).toString()).toBe('old');
  });

  it('rejects opening a missing file with NotFoundError naming its URL', async () => {
    const error = await client().openLtxFile(ref(2, 5, 6)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(`${service.url}/${client().layout.path}/ltx/2/0000000000000005-0000000000000006.ltx`);
  });

  it('keeps small objects beside ltx/ as plain files', async () => {
    await client().writeObject('lock.json', bytes('{"token":"t"}'));
    expect(await readFile(join(onDisk(), 'lock.json'), 'utf8')).toBe('{"token":"t"}');
  });

  it('deleteAll empties the replica directory and leaves its neighbours alone', async () => {
    const neighbour = clientFor(service, { path: `${client().layout.path}-neighbour` });
    await neighbour.writeLtxFile(ref(0, 1, 1), bytes('n'));
    await client().writeLtxFile(ref(0, 1, 1), bytes('x'));
    await client().writeObject('lock.json', bytes('l'));
    await client().deleteAll();
    expect(await readdir(onDisk())).toEqual([]);
    expect(await listAll(neighbour, 0)).toEqual([[1, 1]]);
    await neighbour.deleteAll();
    await neighbour.close();
  });
}
