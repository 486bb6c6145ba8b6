import { FinalSyncError, silentLogger, type ReplicaClient, type Store, type StoreDatabase, type SyncStatus } from '@litestream-ts/core';
import { describe, expect, it } from 'vitest';
import { ControlError } from './control-error.ts';
import { ReplicationControl } from './replication-control.ts';

/** The part of a Store the control uses, in memory; `hang` makes syncAndWait/remove/add never end. */
class FakeStore {
  readonly databases = new Map<string, SyncStatus>();
  hang = false;
  failFinalSync = false;
  constructor(paths: string[]) {
    for (const path of paths) this.databases.set(path, { path, localTXID: 3, remoteTXID: 3, inSync: true, healthy: true });
  }
  paths(): string[] {
    return [...this.databases.keys()];
  }
  syncStatus(): SyncStatus[] {
    return [...this.databases.values()];
  }
  async syncAndWait(): Promise<void> {
    if (this.hang) await new Promise(() => {});
  }
  async sync(): Promise<void> {}
  async add(d: StoreDatabase): Promise<void> {
    if (this.hang) await new Promise(() => {});
    this.databases.set(d.path, { path: d.path, localTXID: 1, remoteTXID: 1, inSync: true, healthy: true });
  }
  async remove(path: string): Promise<SyncStatus> {
    if (this.hang) await new Promise(() => {});
    const status = this.databases.get(path)!;
    this.databases.delete(path);
    if (this.failFinalSync) throw new FinalSyncError([{ ...status, remoteTXID: 2, inSync: false, lastError: 'ENOTDIR' }]);
    return status;
  }
}

const client = { type: 'file' } as ReplicaClient;
const spec = (path: string): StoreDatabase => ({ path, replica: client });

function control(store: FakeStore, configured: string[] = ['/db/a.db']) {
  const released: ReplicaClient[] = [];
  const ctl = new ReplicationControl({
    store: store as unknown as Store,
    databases: configured.map((path) => ({ spec: spec(path), replica: `file:///r${path}` })),
    build: async (path, url) => {
      if (!url.startsWith('file://')) throw new Error(`no backend serves ${url}`);
      return { spec: spec(path), replica: url, client: { type: 'file' } as ReplicaClient };
    },
    adopt: () => {},
    release: async (c) => void released.push(c),
    logger: silentLogger,
    version: '0.0.0',
    startedAt: new Date(),
  });
  return { ctl, released };
}

async function failure(work: Promise<unknown>): Promise<ControlError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ControlError);
  return err as ControlError;
}

describe('ReplicationControl', () => {
  it('bounds sync -wait by its timeout and says where the replica stands', async () => {
    const store = new FakeStore(['/db/a.db']);
    store.hang = true;
    const { ctl } = control(store);
    const err = await failure(ctl.sync('/db/a.db', true, 200));
    expect(err.status).toBe(504);
    expect(err.message).toBe('the replica of /db/a.db did not catch up within 0.2s (replica at TXID 3, local at 3)');
  });

  it('names the known databases for an unknown one', async () => {
    const { ctl } = control(new FakeStore(['/db/a.db', '/db/dir/b.db']));
    const err = await failure(ctl.stop('/db/nope.db', undefined));
    expect(err.status).toBe(404);
    expect(err.message).toBe('database /db/nope.db is not replicated by this litestream replicate; known databases: /db/a.db, /db/dir/b.db');
    expect(err.knownDatabases).toEqual(['/db/a.db', '/db/dir/b.db']);
  });

  it('keeps a stopped database listed (also one it did not add itself), and cannot restart one it has no recipe for', async () => {
    const store = new FakeStore(['/db/a.db', '/db/dir/b.db']);
    const { ctl } = control(store);
    expect(await ctl.stop('/db/dir/b.db', undefined)).toEqual({ status: 'stopped', path: '/db/dir/b.db', txid: 3 });
    expect(ctl.list().databases.map((d) => [d.path, d.status])).toEqual([
      ['/db/a.db', 'replicating'],
      ['/db/dir/b.db', 'stopped'],
    ]);
    expect((await failure(ctl.start('/db/dir/b.db', undefined))).message).toBe('database /db/dir/b.db cannot be started here');
    expect(await ctl.stop('/db/a.db', undefined)).toMatchObject({ status: 'stopped' });
    expect(await ctl.start('/db/a.db', undefined)).toMatchObject({ status: 'started' });
    expect(await ctl.start('/db/a.db', undefined)).toMatchObject({ status: 'already_running' });
  });

  it('reports a stop whose final sync failed as an error, with the database stopped', async () => {
    const store = new FakeStore(['/db/a.db']);
    store.failFinalSync = true;
    const { ctl } = control(store);
    const err = await failure(ctl.stop('/db/a.db', 1000));
    expect(err.status).toBe(500);
    expect(err.message).toMatch(/^\/db\/a\.db is released, but its final sync did not complete: final sync incomplete: \/db\/a\.db \(replica at TXID 0000000000000002, local at 0000000000000003: ENOTDIR\)$/);
    expect(ctl.info('/db/a.db')).toMatchObject({ status: 'stopped', txid: 3, replica_txid: 2, last_error: 'ENOTDIR' });
  });

  it('registers once, refuses another replica for the same path, unregisters and releases the client', async () => {
    const store = new FakeStore(['/db/a.db']);
    const { ctl, released } = control(store);
    expect(await ctl.register('/db/new.db', 'file:///r/new', undefined)).toEqual({ status: 'registered', path: '/db/new.db' });
    expect(await ctl.register('/db/new.db', 'file:///r/new', undefined)).toEqual({ status: 'already_registered', path: '/db/new.db' });
    expect((await failure(ctl.register('/db/new.db', 'file:///r/other', undefined))).status).toBe(409);
    expect((await failure(ctl.register('/db/a.db', 'file:///r/a', undefined))).message).toBe('database /db/a.db is already replicated here (to file:///r/db/a.db); unregister it first');
    expect((await failure(ctl.register('/db/x.db', 'nosuch://x', undefined))).message).toBe('no backend serves nosuch://x');
    expect(ctl.info('/db/new.db')).toMatchObject({ source: 'register', status: 'replicating' });
    expect(await ctl.unregister('/db/new.db', undefined)).toMatchObject({ status: 'unregistered', txid: 1 });
    expect(released).toHaveLength(1);
    expect(store.paths()).toEqual(['/db/a.db']);
  });

  it('lets a start still under way finish before replicate stops (settled)', async () => {
    const store = new FakeStore(['/db/a.db']);
    const { ctl } = control(store);
    await ctl.stop('/db/a.db', undefined);
    store.hang = true;
    const starting = ctl.start('/db/a.db', 100).catch((e: unknown) => e);
    expect(ctl.list().databases).toMatchObject([{ path: '/db/a.db', status: 'starting' }]);
    expect((await failure(ctl.stop('/db/a.db', undefined))).message).toBe('database /db/a.db is starting; stop it once it runs');
    expect((await failure(ctl.unregister('/db/a.db', undefined))).status).toBe(409);
    expect(((await starting) as ControlError).status).toBe(504);
    let settled = false;
    void ctl.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
  });
});
