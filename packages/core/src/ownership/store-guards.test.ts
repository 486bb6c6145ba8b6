import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../engine/store.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { ReplicaOwnedError } from './replica-owner.ts';
import { DatabaseLockedError } from './replication-lock.ts';

let dir: string;
const apps: AppProcess[] = [];
const stores: Store[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-guards-'));
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.stop().catch(() => {})));
  await Promise.all(apps.splice(0).map((a) => a.close()));
  await rm(dir, { recursive: true, force: true });
});

async function database(name: string, rows: number): Promise<{ path: string; app: AppProcess }> {
  const path = join(dir, name);
  const app = new AppProcess(path);
  apps.push(app);
  await app.insert(rows);
  return { path, app };
}

function store(path: string, replica: string, options: { lease?: { ttl: number }; logger?: RecordingLogger } = {}): Store {
  const s = new Store({
    databases: [{ path, replica: new FileReplicaClient(replica), ...(options.lease ? { lease: options.lease } : {}) }],
    monitorInterval: 50,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  stores.push(s);
  return s;
}

async function restoredHash(replica: string): Promise<string> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  await restore({ client: new FileReplicaClient(replica), outputPath: out });
  return createHash('sha256').update(await readFile(out)).digest('hex');
}

describe('one database per replica', () => {
  it('refuses a second database on a replica that belongs to another; the first one still restores', async () => {
    const replica = join(dir, 'shared-replica');
    const first = await database('first.db', 10);
    const second = await database('second.db', 30);
    const one = store(first.path, replica);
    await one.start();
    await one.syncAndWait();
    await one.stop();

    const two = store(second.path, replica);
    const error = await two.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ReplicaOwnedError);
    expect((error as Error).message).toContain(second.path);
    expect((error as Error).message).toContain(first.path);
    // Nothing of the second database reached the replica: it restores to the first.
    expect(await restoredHash(replica)).toBe(await first.app.hash());
    // And the first goes on replicating there.
    await first.app.insert(5);
    const again = store(first.path, replica);
    await again.start();
    await again.syncAndWait();
    await again.stop();
    expect(await restoredHash(replica)).toBe(await first.app.hash());
  });
});

describe('one replicator per database', () => {
  it('refuses a second store on the same database without a lease, and lets one start once the first stopped', async () => {
    const { path, app } = await database('app.db', 10);
    const replica = join(dir, 'replica');
    const first = store(path, replica);
    await first.start();
    const error = await store(path, join(dir, 'other-replica')).start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseLockedError);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    expect((error as Error).message).toContain(join(dir, '.app.db-litestream', 'replicate.lock'));
    await app.insert(3);
    await first.syncAndWait();
    await first.stop();

    const next = store(path, replica);
    await next.start();
    await app.insert(2);
    await next.syncAndWait();
    await next.stop();
    expect(await restoredHash(replica)).toBe(await app.hash());
  });

  it('with a lease, a second store is not refused but waits for the lease', async () => {
    const { path } = await database('app.db', 10);
    const replica = join(dir, 'replica');
    const first = store(path, replica, { lease: { ttl: 3000 } });
    await first.start();
    const logger = new RecordingLogger();
    const second = store(path, replica, { lease: { ttl: 3000 }, logger });
    let settled = false;
    const starting = second.start().finally(() => (settled = true));
    starting.catch(() => {});
    for (let i = 0; i < 100 && !logger.records.some((r) => r.message === 'waiting for lease'); i++) await sleep(20);
    expect(logger.records.map((r) => r.message)).toContain('waiting for lease');
    expect(settled).toBe(false);
    await second.stop();
    await first.stop();
  });
});
