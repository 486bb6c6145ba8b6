import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotFoundError, type LtxFileRef, type ReplicaClient } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import type { SftpReplicaClient } from './sftp-replica-client.ts';
import { clientFor, sftpForFile } from './test-support/sftp-fixture.ts';

const { service, skip } = await sftpForFile();

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function listAll(client: ReplicaClient, level: number): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for await (const file of client.listLtxFiles(level)) out.push([file.minTXID, file.maxTXID]);
  return out;
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts).toString();
}

if (service === undefined) {
  describe.skip(`SftpReplicaClient (skipped: ${skip})`, () => {
    it('needs sshd', () => {});
  });
} else {
  const sshd = service;
  runReplicaClientConformance('SftpReplicaClient', {
    makeClient: () => clientFor(sshd),
    largeFileSize: 32 * 1024 * 1024,
    additionalTests: (getClient) => sftpFacts(() => getClient() as SftpReplicaClient),
  });

  describe('SftpReplicaClient with concurrent-writes off and password auth', () => {
    it('writes and reads back a multi-MiB file', async () => {
      const client = clientFor(sshd, { concurrentWrites: false, keyPath: undefined, password: sshd.password });
      try {
        const data = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
        const written = await client.writeLtxFile(ref(1, 1, 5), data);
        expect(written.size).toBe(data.length);
        const back = Buffer.from(await readAll(await client.openLtxFile(ref(1, 1, 5))), 'utf8');
        expect(back.length).toBe(data.length);
      } finally {
        await client.deleteAll();
        await client.close();
      }
    });
  });
}

function sftpFacts(client: () => SftpReplicaClient): void {
  it('lays files out as ltx/<level>/<minTXID>-<maxTXID>.ltx under the path', async () => {
    await client().writeLtxFile(ref(0, 1, 2), bytes('a'));
    await client().writeLtxFile(ref(9, 1, 0x10), bytes('b'));
    await client().writeLtxFile(ref(3, 0xabc, 0x1_0000_0000), bytes('c'));
    const root = client().root;
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    const files = entries.filter((e) => e.isFile()).map((e) => relative(root, join(e.parentPath, e.name))).sort();
    expect(files).toEqual([
      'ltx/0/0000000000000001-0000000000000002.ltx',
      'ltx/3/0000000000000abc-0000000100000000.ltx',
      'ltx/9/0000000000000001-0000000000000010.ltx',
    ]);
  });

  it('stamps the LTX timestamp (whole seconds: SFTP v3) as mtime and reports it as createdAt', async () => {
    const timestamp = new Date('2024-05-06T07:08:09.876Z');
    const written = await client().writeLtxFile(ref(0, 1, 1), bytes('x'), { timestamp });
    expect(written.createdAt.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    const [listed] = await (async () => {
      const out = [];
      for await (const f of client().listLtxFiles(0)) out.push(f);
      return out;
    })();
    expect(listed?.createdAt.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    expect(Math.floor((await stat(client().ltxPath(ref(0, 1, 1)))).mtimeMs / 1000)).toBe(Math.floor(timestamp.getTime() / 1000));
  });

  it('ignores temp files, other names and directories in listings', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('real'));
    const dir = client().levelPath(0);
    for (const name of ['.0000000000000003-0000000000000003.ltx.0123456789ab.tmp', '0000000000000004-0000000000000004.ltx.tmp', 'notes.txt']) {
      await writeFile(join(dir, name), 'junk');
    }
    expect(await listAll(client(), 0)).toEqual([[1, 1]]);
  });

  it('leaves no temp file behind when the source stream fails, and keeps the previous file whole', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('old'));
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(500_000).fill(1);
      throw new Error('source broke');
    }
    await expect(client().writeLtxFile(ref(0, 1, 1), failing())).rejects.toThrow('source broke');
    expect(await readdir(client().levelPath(0))).toEqual(['0000000000000001-0000000000000001.ltx']);
    expect(await readAll(await client().openLtxFile(ref(0, 1, 1)))).toBe('old');
  });

  it('rejects opening a missing file with NotFoundError naming the remote path', async () => {
    const error = await client().openLtxFile(ref(2, 5, 6)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(`${client().root}/ltx/2/0000000000000005-0000000000000006.ltx`);
  });

  it('reconnects after the server drops the connection', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('before'));
    expect(await service!.dropConnections()).toBeGreaterThan(0);
    await client().writeLtxFile(ref(0, 2, 2), bytes('after'));
    expect(await listAll(client(), 0)).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('lists again right after the server kills the session', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('x'));
    await listAll(client(), 0);
    await service!.dropConnections();
    // Whether the close event or the failed request reveals the loss first, the listing succeeds.
    expect(await listAll(client(), 0)).toEqual([[1, 1]]);
  });

  it('keeps lease objects beside ltx/ as plain files', async () => {
    await client().writeObject('lock.json', bytes('{"token":"t"}'), { ifNoneMatch: '*' });
    expect(await readFile(join(client().root, 'lock.json'), 'utf8')).toBe('{"token":"t"}');
  });

  it('changes the etag on every replace, even with identical content within one second', async () => {
    const a = await client().writeObject('lock.json', bytes('same'), { ifNoneMatch: '*' });
    const b = await client().writeObject('lock.json', bytes('same'), { ifMatch: a.etag });
    const c = await client().writeObject('lock.json', bytes('same'));
    expect(new Set([a.etag, b.etag, c.etag]).size).toBe(3);
    await expect(client().writeObject('lock.json', bytes('same'), { ifMatch: a.etag })).rejects.toThrow(/precondition failed/);
    expect((await client().readObject('lock.json'))?.etag).toBe(c.etag);
  });

  it('breaks a lock left behind by a crashed client after staleAfterMs', async () => {
    const { SftpReplicaClient: Client } = await import('./sftp-replica-client.ts');
    const quick = new Client({ ...optionsOf(client()), lock: { staleAfterMs: 300, timeoutMs: 5_000 } });
    try {
      const { etag } = await quick.writeObject('lock.json', bytes('v1'), { ifNoneMatch: '*' });
      await writeFile(join(client().root, 'lock.json.lock'), 'crashed-holder');
      const started = Date.now();
      await quick.writeObject('lock.json', bytes('v2'), { ifMatch: etag });
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(new TextDecoder().decode((await quick.readObject('lock.json'))?.data)).toBe('v2');
    } finally {
      await quick.close();
    }
  });
}

function optionsOf(client: SftpReplicaClient): ConstructorParameters<typeof SftpReplicaClient>[0] {
  return {
    host: service!.host,
    port: service!.port,
    user: service!.username,
    keyPath: service!.privateKeyPath,
    hostKey: service!.hostPublicKey,
    path: client.root,
    dialTimeoutMs: 5_000,
  };
}
