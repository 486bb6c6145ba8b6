// Two copies of @litestream-ts/core in one project, as npm makes them when a backend's peer
// range resolves to another version than the host's: the host imports copy B (the project's
// own `@litestream-ts/core`), the file backend imports copy A (nested under it).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { PackedInstall } from './packed-install.ts';

/** Version given to copy A, so the two copies also differ by version as they would in the wild. */
export const COPY_A_VERSION = '0.0.0-copy-a';

/**
 * Lays out `<install>/two-copies`: its own node_modules holds the file backend with copy A of
 * core nested under it (unpacked from the core tarball, version changed); everything else,
 * copy B included, resolves from the install's node_modules one level up.
 */
export function layOutTwoCopies(install: PackedInstall): string {
  const dir = join(install.dir, 'two-copies');
  const backend = join(dir, 'node_modules/@litestream-ts/backend-file');
  mkdirSync(backend, { recursive: true });
  cpSync(join(install.dir, 'node_modules/@litestream-ts/backend-file'), backend, { recursive: true });
  const copyA = join(backend, 'node_modules/@litestream-ts/core');
  mkdirSync(copyA, { recursive: true });
  execFileSync('tar', ['-xzf', install.tarballs.get('@litestream-ts/core')!, '-C', copyA, '--strip-components=1']);
  const manifestPath = join(copyA, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: string };
  writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: COPY_A_VERSION }, null, 2));
  return dir;
}

/** The host program: uses copy B's Leaser, errors, Store and restore with a copy-A client; prints JSON. */
export const HOST_PROGRAM = `
import { createRequire } from 'node:module';
import * as core from '@litestream-ts/core';
import { FileReplicaClient } from '@litestream-ts/backend-file';

const work = process.argv[2];
const require = createRequire(import.meta.url);
const backendRequire = createRequire(require.resolve('@litestream-ts/backend-file'));
const Database = require('better-sqlite3');
const versionOf = (resolve) => JSON.parse(require('node:fs').readFileSync(resolve('@litestream-ts/core').replace(/dist\\/index\\.js$/, 'package.json'), 'utf8')).version;
const bytes = (text) => new TextEncoder().encode(text);
const seen = (error, Class) => ({
  name: error.name,
  errorCode: error.errorCode,
  hostClass: error.constructor === Class,
  instanceOfHost: error instanceof Class,
  isLitestreamError: core.isLitestreamError(error, Class.errorCode),
});
const result = { hostCore: versionOf(require.resolve), backendCore: versionOf(backendRequire.resolve) };

const client = new FileReplicaClient(work + '/replica');
result.clientIsReplicaClient = client instanceof core.ReplicaClient;
const leaser = new core.Leaser(client, { ttl: 5000, owner: 'host' });
result.acquired = await leaser.tryAcquire();
const rival = new FileReplicaClient(work + '/replica');
const lease = await rival.readObject('lock.json');
await rival.writeObject('lock.json', bytes('{}'), { ifMatch: lease.etag });
result.renew = await leaser.renew().then(() => 'renewed', (error) => seen(error, core.LeaseLostError));

result.notFound = await client.openLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }).then(() => 'opened', (error) => seen(error, core.NotFoundError));
result.usage = await client.readObject('not/a name').then(() => 'read', (error) => seen(error, core.UsageError));
await client.writeObject('marker.json', bytes('1'), { ifNoneMatch: '*' });
result.precondition = await client.writeObject('marker.json', bytes('2'), { ifNoneMatch: '*' }).then(() => 'written', (error) => seen(error, core.PreconditionFailedError));

const db = new Database(work + '/app.db');
db.exec('CREATE TABLE t (x INTEGER)');
const store = new core.Store({ databases: [{ path: work + '/app.db', replica: new FileReplicaClient(work + '/db-replica') }] });
await store.start();
db.prepare('INSERT INTO t VALUES (?)').run(42);
await store.syncAndWait();
await store.stop();
db.close();
await core.restore({ client: new FileReplicaClient(work + '/db-replica'), outputPath: work + '/restored.db' });
result.restored = new Database(work + '/restored.db', { readonly: true }).prepare('SELECT x FROM t').get().x;
console.log(JSON.stringify(result));
`;

/** A host in TypeScript: copy B's Store, restore, Leaser and registry given copy A's client and plugins. */
export const HOST_TYPES = `
import { BackendRegistry, Leaser, Store, restore, restoreIfNotExists, type ReplicaClient } from '@litestream-ts/core';
import { FileReplicaClient, fileBackend, lazyFileBackend } from '@litestream-ts/backend-file';

const replica = new FileReplicaClient('replica');
const asHostType: ReplicaClient = replica;
export const store = new Store({ databases: [{ path: 'app.db', replica }] });
export const restored = restore({ client: replica, outputPath: 'restored.db' });
export const fresh = restoreIfNotExists({ client: asHostType, outputPath: 'app.db' });
export const leaser = new Leaser(replica);
export const registry = new BackendRegistry().register(fileBackend).registerLazy(lazyFileBackend);
`;
