import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, it } from 'vitest';
import { NotFoundError, PreconditionFailedError, type LtxFileRef, type ReplicaClient } from '@litestream-ts/core';
import { runReplicaClientConformance } from '@litestream-ts/conformance';
import { SqliteFileReplicaClient } from './sqlite-file-replica-client.ts';

const scratch = await mkdtemp(join(tmpdir(), 'litestream-myscheme-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

// Every test's replica lives in the same store file, under its own path: the suite then also
// proves that replicas sharing a file stay apart (each test's deleteAll empties only its own).
const STORE = join(scratch, 'store.sqlite');
let replicas = 0;
const freshClient = (file = STORE): SqliteFileReplicaClient => new SqliteFileReplicaClient({ file, path: `suite/replica-${++replicas}` });

runReplicaClientConformance('SqliteFileReplicaClient (myscheme)', {
  makeClient: () => freshClient(),
  largeFileSize: 16 * 1024 * 1024,
  additionalTests: (getClient) => storeFacts(() => getClient() as SqliteFileReplicaClient),
});

const ref = (level: number, minTXID: number, maxTXID: number): LtxFileRef => ({ level, minTXID, maxTXID });
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function listed(client: ReplicaClient, level: number): Promise<Array<[number, number]>> {
  const out: Array<[number, number]> = [];
  for await (const file of client.listLtxFiles(level)) out.push([file.minTXID, file.maxTXID]);
  return out;
}

async function readText(client: ReplicaClient, file: LtxFileRef): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await client.openLtxFile(file)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function storeFacts(client: () => SqliteFileReplicaClient): void {
  it('shows a published file to another connection on the same store file, and keeps other paths apart', async () => {
    await client().writeLtxFile(ref(0, 1, 2), bytes('shared'));
    const sameReplica = new SqliteFileReplicaClient(client().address);
    const otherReplica = new SqliteFileReplicaClient({ file: client().address.file, path: `${client().address.path}-other` });
    try {
      expect(await listed(sameReplica, 0)).toEqual([[1, 2]]);
      expect(await readText(sameReplica, ref(0, 1, 2))).toBe('shared');
      expect(await listed(otherReplica, 0)).toEqual([]);
      await otherReplica.deleteAll();
      expect(await listed(client(), 0)).toEqual([[1, 2]]);
    } finally {
      await sameReplica.close();
      await otherReplica.close();
    }
  });

  it('lets exactly one of two connections win an ifNoneMatch race on the same store file', async () => {
    const rivals = [client(), new SqliteFileReplicaClient(client().address), new SqliteFileReplicaClient(client().address)];
    try {
      const results = await Promise.allSettled(rivals.map((rival, i) => rival.writeObject('lock.json', bytes(`owner ${i}`), { ifNoneMatch: '*' })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PreconditionFailedError);
    } finally {
      await rivals[1]!.close();
      await rivals[2]!.close();
    }
  });

  it('does not publish a file whose upload deleteAll discarded while it was written, and keeps nothing of it', async () => {
    let release = (): void => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstTaken = (): void => {};
    const started = new Promise<void>((resolve) => (firstTaken = resolve));
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(3 << 20).fill(7);
      firstTaken();
      await held;
      yield bytes('tail');
    }
    const own = freshClient(join(scratch, 'emptied.sqlite'));
    try {
      const writing = own.writeLtxFile(ref(0, 5, 5), source());
      await started;
      await own.deleteAll();
      release();
      await expect(writing).rejects.toThrow(/discarded/);
      expect(await listed(own, 0)).toEqual([]);
      expect(chunkCount(own.address.file)).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('removes the chunks of a replaced, deleted or failed upload', async () => {
    const own = freshClient(join(scratch, 'chunks.sqlite'));
    try {
      await own.writeLtxFile(ref(0, 1, 1), new Uint8Array(2_500_000).fill(1));
      await own.writeLtxFile(ref(0, 1, 1), new Uint8Array(1_500_000).fill(2));
      expect(chunkCount(own.address.file)).toBe(2);
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield new Uint8Array(2_000_000);
        throw new Error('source broke');
      }
      await expect(own.writeLtxFile(ref(0, 2, 2), failing())).rejects.toThrow('source broke');
      expect(chunkCount(own.address.file)).toBe(2);
      await own.deleteLtxFiles([ref(0, 1, 1)]);
      expect(chunkCount(own.address.file)).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('sweeps uploads a crashed writer abandoned more than a day ago when the store is opened, and keeps recent ones', async () => {
    const file = join(scratch, 'crashed.sqlite');
    const first = freshClient(file);
    await first.writeLtxFile(ref(0, 1, 1), bytes('kept'));
    await first.close();
    const raw = new Database(file);
    const stale = Number(raw.prepare('INSERT INTO uploads (replica, started_at) VALUES (?, ?)').run('x', Date.now() - 25 * 3600_000).lastInsertRowid);
    const recent = Number(raw.prepare('INSERT INTO uploads (replica, started_at) VALUES (?, ?)').run('x', Date.now() - 3600_000).lastInsertRowid);
    for (const upload of [stale, recent]) raw.prepare('INSERT INTO chunks (upload, offset, data) VALUES (?, 0, ?)').run(upload, Buffer.alloc(10));
    raw.close();
    const second = new SqliteFileReplicaClient(first.address);
    try {
      expect(await readText(second, ref(0, 1, 1))).toBe('kept');
      const check = new Database(file, { readonly: true });
      expect(check.prepare('SELECT upload FROM chunks WHERE upload IN (?, ?)').pluck().all(stale, recent)).toEqual([recent]);
      check.close();
    } finally {
      await second.close();
    }
  });

  it('names the store file when it cannot be opened, and a missing file by its place in the store', async () => {
    const notSqlite = join(scratch, 'not-sqlite.sqlite');
    await writeFile(notSqlite, 'this is not a database, just text that is long enough to have a header'.repeat(4));
    const broken = new SqliteFileReplicaClient({ file: notSqlite, path: '' });
    await expect(broken.readObject('lock.json')).rejects.toThrow(`${notSqlite}: cannot open the myscheme store`);
    await broken.close();
    const missing = client().openLtxFile(ref(3, 7, 9));
    await expect(missing).rejects.toBeInstanceOf(NotFoundError);
    await expect(missing).rejects.toThrow(`${client().address.file}?path=${client().address.path}/3/0000000000000007-0000000000000009.ltx`);
  });
}

/** Every chunk a store file holds, whoever's it is. */
function chunkCount(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM chunks').pluck().get() as number;
  } finally {
    db.close();
  }
}
