import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLostError, Leaser } from './leaser.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-lease-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('Leaser on the file backend', () => {
  it('gives the lease to exactly one of several contenders', async () => {
    const leasers = Array.from({ length: 5 }, (_, i) => new Leaser(new FileReplicaClient(dir), { ttl: 5000, owner: `p${i}` }));
    const won = await Promise.all(leasers.map((l) => l.tryAcquire()));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(leasers.filter((l) => l.held)).toHaveLength(1);
  });

  it('lets another process take over only after the lease expires', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const a = new Leaser(new FileReplicaClient(dir), { ttl: 10_000, owner: 'a', now });
    const b = new Leaser(new FileReplicaClient(dir), { ttl: 10_000, owner: 'b', now });
    expect(await a.tryAcquire()).toBe(true);
    clock += 9_000;
    expect(await b.tryAcquire()).toBe(false);
    clock += 2_000; // a's lease has expired
    expect(await b.tryAcquire()).toBe(true);
    await expect(a.renew()).rejects.toBeInstanceOf(LeaseLostError);
    expect(a.held).toBe(false);
  });

  it('renews its own lease and releases it with a conditional delete', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const a = new Leaser(new FileReplicaClient(dir), { ttl: 10_000, owner: 'a', now });
    const b = new Leaser(new FileReplicaClient(dir), { ttl: 10_000, owner: 'b', now });
    expect(await a.tryAcquire()).toBe(true);
    clock += 8_000;
    await a.renew();
    clock += 8_000; // past the first expiry, within the renewed one
    expect(await b.tryAcquire()).toBe(false);
    await a.release();
    expect(await b.tryAcquire()).toBe(true);
    expect(await new FileReplicaClient(dir).readObject('lock.json').then((o) => JSON.parse(Buffer.from(o!.data).toString()))).toMatchObject({ owner: 'b' });
  });
});
