import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError, UsageError, type LtxFileRef, type ReplicaClient } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import { FileReplicaClient } from './file-replica-client.ts';
import { ObjectLockTimeoutError } from './object-lock.ts';
import { raceProcesses } from './test-support/racer-processes.ts';

const scratch = await mkdtemp(join(tmpdir(), 'litestream-file-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A client on a fresh, empty temp directory. */
async function freshClient(options?: ConstructorParameters<typeof FileReplicaClient>[1]): Promise<FileReplicaClient> {
  return new FileReplicaClient(await mkdtemp(join(scratch, 'replica-')), options);
}

runReplicaClientConformance('FileReplicaClient', {
  makeClient: () => freshClient(),
  additionalTests: (getClient) => fileFacts(() => getClient() as FileReplicaClient),
});

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function listAll(client: ReplicaClient, level: number): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for await (const file of client.listLtxFiles(level)) out.push([file.minTXID, file.maxTXID]);
  return out;
}

/** Every regular file under `dir`, as sorted paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function fileFacts(client: () => FileReplicaClient): void {
  it('lays files out as ltx/<level>/<minTXID>-<maxTXID>.ltx under the root', async () => {
    await client().writeLtxFile(ref(0, 1, 2), bytes('a'));
    await client().writeLtxFile(ref(9, 1, 0x10), bytes('b'));
    await client().writeLtxFile(ref(3, 0xabc, 0x1_0000_0000), bytes('c'));
    expect(await filesUnder(client().root)).toEqual([
      'ltx/0/0000000000000001-0000000000000002.ltx',
      'ltx/3/0000000000000abc-0000000100000000.ltx',
      'ltx/9/0000000000000001-0000000000000010.ltx',
    ]);
  });

  it('lists only well-formed LTX names: no temp files, other names, TXID 0 or directories', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('real'));
    const dir = client().levelPath(0);
    for (const name of [
      '.0000000000000003-0000000000000003.ltx.0123456789ab.tmp',
      '0000000000000004-0000000000000004.ltx.tmp',
      '000000000000000A-000000000000000A.ltx',
      '0000000000000002-0000000000000001.ltx',
      '0000000000000000-0000000000000001.ltx',
      '1-1.ltx',
      'notes.txt',
    ]) {
      await writeFile(join(dir, name), 'junk');
    }
    await mkdir(join(dir, '0000000000000005-0000000000000005.ltx'));
    expect(await listAll(client(), 0)).toEqual([[1, 1]]);
  });

  it('does not list a file while its write is still streaming; only a hidden temp file exists meanwhile', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* slowSource(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(2_000_000).fill(1);
      await gate;
      yield new Uint8Array(1000).fill(2);
    }
    const writing = client().writeLtxFile(ref(0, 1, 1), slowSource());
    const dir = client().levelPath(0);
    await expect.poll(() => readdir(dir).catch(() => [])).toHaveLength(1);
    expect((await readdir(dir))[0]).toMatch(/^\.0000000000000001-0000000000000001\.ltx\.[0-9a-f]{12}\.tmp$/);
    expect(await listAll(client(), 0)).toEqual([]);
    release();
    expect((await writing).size).toBe(2_001_000);
    expect(await readdir(dir)).toEqual(['0000000000000001-0000000000000001.ltx']);
  });

  it('leaves neither the file nor a temp file when the source stream throws midway', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3_000_000).fill(7);
      throw new Error('upstream reset');
    }
    await expect(client().writeLtxFile(ref(1, 5, 6), broken())).rejects.toThrow('upstream reset');
    expect(await readdir(client().levelPath(1))).toEqual([]);
  });

  it("stamps the LTX timestamp as the file's mtime", async () => {
    const timestamp = new Date('2022-02-02T02:02:02.222Z');
    await client().writeLtxFile(ref(0, 1, 1), bytes('x'), { timestamp });
    const stats = await stat(client().ltxPath(ref(0, 1, 1)));
    expect(Math.round(stats.mtimeMs)).toBe(timestamp.getTime());
  });

  it('rejects an invalid timestamp with UsageError', async () => {
    await expect(client().writeLtxFile(ref(0, 1, 1), bytes('x'), { timestamp: new Date(Number.NaN) })).rejects.toBeInstanceOf(UsageError);
  });

  it('rejects with a NotFoundError that names the missing path', async () => {
    const path = client().ltxPath(ref(2, 7, 8));
    const error = await client().openLtxFile(ref(2, 7, 8)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).file).toBe(path);
    expect((error as NotFoundError).message).toContain(path);
  });

  it('creates the replica directory and its parents on the first write', async () => {
    const nested = new FileReplicaClient(join(client().root, 'a', 'b', 'c'));
    expect(await listAll(nested, 0)).toEqual([]);
    await nested.writeLtxFile(ref(0, 1, 1), bytes('x'));
    expect(await listAll(nested, 0)).toEqual([[1, 1]]);
  });

  it('keeps the root directory and foreign subdirectories after deleteAll, but removes ltx/ and objects', async () => {
    await client().writeLtxFile(ref(0, 1, 1), bytes('x'));
    await client().writeObject('lock.json', bytes('{}'), { ifNoneMatch: '*' });
    await mkdir(join(client().root, 'keep-me'));
    await client().deleteAll();
    expect(await readdir(client().root)).toEqual(['keep-me']);
  });

  it('rejects "." and ".." as object names, which would leave the replica directory', async () => {
    for (const name of ['.', '..']) {
      await expect(client().readObject(name)).rejects.toBeInstanceOf(UsageError);
      await expect(client().writeObject(name, bytes('x'))).rejects.toBeInstanceOf(UsageError);
    }
  });

  it('changes the etag on every replace, even when the content stays the same', async () => {
    const first = await client().writeObject('lock.json', bytes('same'), { ifNoneMatch: '*' });
    const second = await client().writeObject('lock.json', bytes('same'), { ifMatch: first.etag });
    expect(second.etag).not.toBe(first.etag);
    await expect(client().writeObject('lock.json', bytes('same'), { ifMatch: first.etag })).rejects.toBeInstanceOf(PreconditionFailedError);
  });

  it('waits for a live object lock and writes once it is released', async () => {
    const { etag } = await client().writeObject('lock.json', bytes('v1'), { ifNoneMatch: '*' });
    const lockPath = join(client().root, 'lock.json.lock');
    await writeFile(lockPath, 'held by a test', { flag: 'wx' });
    let settled = false;
    const writing = client().writeObject('lock.json', bytes('v2'), { ifMatch: etag }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(settled).toBe(false);
    await rm(lockPath);
    await writing;
    expect(new TextDecoder().decode((await client().readObject('lock.json'))?.data)).toBe('v2');
  });

  it('breaks an object lock left behind by a crashed process once it is stale', async () => {
    const { etag } = await client().writeObject('lock.json', bytes('v1'), { ifNoneMatch: '*' });
    const lockPath = join(client().root, 'lock.json.lock');
    await writeFile(lockPath, 'crashed');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    await client().writeObject('lock.json', bytes('v2'), { ifMatch: etag });
    expect(await readdir(client().root)).toEqual(['lock.json']);
  });

  it('gives up with ObjectLockTimeoutError when a live lock outlasts the wait', async () => {
    const impatient = await freshClient({ lock: { timeoutMs: 200 } });
    const { etag } = await impatient.writeObject('lock.json', bytes('v1'), { ifNoneMatch: '*' });
    await writeFile(join(impatient.root, 'lock.json.lock'), 'held');
    await expect(impatient.writeObject('lock.json', bytes('v2'), { ifMatch: etag })).rejects.toBeInstanceOf(ObjectLockTimeoutError);
  });

  it('lets exactly one of 4 Node processes and this one win a racing ifNoneMatch write', async () => {
    let here: Promise<boolean> | undefined;
    const outcomes = await raceProcesses(Array.from({ length: 4 }, () => ['create', client().root, 'lease.json']), () => {
      here = client()
        .writeObject('lease.json', bytes(`process ${process.pid}`), { ifNoneMatch: '*' })
        .then(() => true, (error: unknown) => (error instanceof PreconditionFailedError ? false : Promise.reject(error)));
    });
    const mine = await here!;
    const winners = [...outcomes.map((o) => o.won === true), mine].filter(Boolean);
    expect(winners).toHaveLength(1);
    const winner = outcomes.find((o) => o.won === true)?.pid ?? process.pid;
    expect(new TextDecoder().decode((await client().readObject('lease.json'))?.data)).toBe(`process ${winner}`);
  });

  it('keeps a counter exact when 3 processes each apply 25 compare-and-swap increments', async () => {
    await client().writeObject('counter', bytes('0'), { ifNoneMatch: '*' });
    const outcomes = await raceProcesses(Array.from({ length: 3 }, () => ['increment', client().root, 'counter', '25']));
    expect(outcomes.map((o) => o.done)).toEqual([25, 25, 25]);
    expect(new TextDecoder().decode((await client().readObject('counter'))?.data)).toBe('75');
    expect(await readdir(client().root)).toEqual(['counter']);
  });
}
