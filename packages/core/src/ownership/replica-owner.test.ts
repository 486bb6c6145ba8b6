import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReplicaCapabilities } from '../replica/replica-client.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { requestReplicaClaim } from './database-identity.ts';
import { OWNER_OBJECT, ReplicaOwnedError, claimReplica, readReplicaOwner } from './replica-owner.ts';

let dir: string;
let client: FileReplicaClient;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-owner-'));
  client = new FileReplicaClient(join(dir, 'replica'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const a = () => ({ database: join(dir, 'a.db'), metaPath: join(dir, '.a.db-litestream') });
const b = () => ({ database: join(dir, 'b.db'), metaPath: join(dir, '.b.db-litestream') });

describe('claimReplica (the owner marker)', () => {
  it('adopts a replica without a marker and writes one naming the database, its host and identity', async () => {
    expect(await claimReplica(client, a())).toBe('adopted');
    const owner = await readReplicaOwner(client);
    expect(owner).toMatchObject({ database: a().database, hostname: hostname() });
    const identity = JSON.parse(await readFile(join(a().metaPath, 'identity.json'), 'utf8')) as { id: string };
    expect(owner?.id).toBe(identity.id);
    expect(await claimReplica(client, a())).toBe('owned');
  });

  it('refuses a second database, naming both, and leaves the marker alone', async () => {
    await claimReplica(client, a());
    const before = await client.readObject(OWNER_OBJECT);
    const error = await claimReplica(client, b()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ReplicaOwnedError);
    expect((error as Error).message).toContain(b().database);
    expect((error as Error).message).toContain(`belongs to database ${a().database} on host ${hostname()}`);
    expect((error as Error).message).toContain(`litestream reset --claim ${b().database}`);
    expect((await client.readObject(OWNER_OBJECT))?.etag).toBe(before?.etag);
    // Refused twice in a row: the refusal stored nothing that would let a retry through.
    await expect(claimReplica(client, b())).rejects.toBeInstanceOf(ReplicaOwnedError);
  });

  it('re-adopts after the meta directory was removed (same path, same host), as reset and Litestream recovery do', async () => {
    await claimReplica(client, a());
    await rm(a().metaPath, { recursive: true });
    const logger = new RecordingLogger();
    expect(await claimReplica(client, { ...a(), logger })).toBe('readopted');
    expect(logger.at('info').map((r) => r.message)).toContain('replica re-adopted after the local state was reset');
    expect(await claimReplica(client, a())).toBe('owned');
  });

  it('refuses a database at the same path with its own identity (another meta directory)', async () => {
    await claimReplica(client, a());
    await claimReplica(new FileReplicaClient(join(dir, 'elsewhere')), { ...a(), metaPath: join(dir, 'other-meta') });
    await expect(claimReplica(client, { ...a(), metaPath: join(dir, 'other-meta') })).rejects.toBeInstanceOf(ReplicaOwnedError);
  });

  it('takes the replica over once a claim was requested, and only once', async () => {
    await claimReplica(client, a());
    await requestReplicaClaim(b().metaPath);
    const logger = new RecordingLogger();
    expect(await claimReplica(client, { ...b(), logger })).toBe('taken-over');
    expect(logger.at('warn')[0]).toMatchObject({ message: 'replica taken over', fields: { previousOwner: a().database } });
    expect((await readReplicaOwner(client))?.database).toBe(b().database);
    // The claim is used up: the database first refused now is refused again.
    await expect(claimReplica(client, a())).rejects.toBeInstanceOf(ReplicaOwnedError);
    expect(JSON.parse(await readFile(join(b().metaPath, 'identity.json'), 'utf8'))).not.toHaveProperty('claim');
  });

  it('updates the marker of a database moved together with its meta directory', async () => {
    await claimReplica(client, a());
    const moved = { database: join(dir, 'moved', 'a.db'), metaPath: a().metaPath };
    expect(await claimReplica(client, moved)).toBe('owned');
    expect((await readReplicaOwner(client))?.database).toBe(moved.database);
  });

  it('replaces an unreadable marker with a warning', async () => {
    await client.writeObject(OWNER_OBJECT, new TextEncoder().encode('not json'));
    const logger = new RecordingLogger();
    expect(await claimReplica(client, { ...a(), logger })).toBe('adopted');
    expect(logger.at('warn').map((r) => r.message)).toContain('replica owner marker is unreadable; replacing it');
  });

  it('works on a backend without conditional writes (plain small objects)', async () => {
    const plain = new (class extends FileReplicaClient {
      override readonly capabilities: ReplicaCapabilities = { ...new FileReplicaClient(dir).capabilities, conditionalWrite: false };
    })(join(dir, 'plain'));
    expect(await claimReplica(plain, a())).toBe('adopted');
    await expect(claimReplica(plain, b())).rejects.toBeInstanceOf(ReplicaOwnedError);
  });

  it('stores no identity for a database the replica refused', async () => {
    await claimReplica(client, a());
    await expect(claimReplica(client, b())).rejects.toBeInstanceOf(ReplicaOwnedError);
    // b was refused: it stored no identity, so nothing about it changed on disk.
    await expect(readFile(join(b().metaPath, 'identity.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
