import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../ltx/errors.ts';
import { BackendLoadError, BackendRegistry, type BackendInfo, type BackendPlugin, type LazyBackendPlugin } from './registry.ts';
import type { ReplicaClient } from './replica-client.ts';

// Each lazy backend below is a real module file in a temporary directory that records its own
// evaluation in a global list, so "not imported yet" is observed, not assumed.
const IMPORTS = Symbol.for('litestream-ts.registry-test.imports');
const imports = (): string[] => ((globalThis as Record<symbol, string[] | undefined>)[IMPORTS] ??= []);

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-registry-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes a backend module serving `type` (scheme `type`) and returns its URL; `body` replaces the export. */
async function backendModule(type: string, body?: string): Promise<string> {
  const file = join(dir, `${type}-${++counter}.mjs`);
  const url = pathToFileURL(file).href;
  await writeFile(
    file,
    `(globalThis[Symbol.for('litestream-ts.registry-test.imports')] ??= []).push(import.meta.url);\n` +
      (body ??
        `export const plugin = {
  type: ${JSON.stringify(type)}, schemes: [${JSON.stringify(type)}], configKeys: ['bucket'], description: 'fixture',
  fromURL(url, context) { return { made: 'url', type: ${JSON.stringify(type)}, url, context }; },
  fromConfig(config, context) { return { made: 'config', type: ${JSON.stringify(type)}, config, context }; },
};\n`),
  );
  return url;
}

/** How often the module at `url` was evaluated, and how often a registry asked to load it (synchronous, so an import still in flight counts). */
const loadCalls = new Map<string, number>();
function importsOf(url: string): number {
  return imports().filter((u) => u === url).length;
}
function loadsOf(url: string): number {
  return loadCalls.get(url) ?? 0;
}

/** A lazy entry whose facts match the fixture module, loading it with a real dynamic import. */
function lazyEntry(type: string, url: string, extra: Partial<LazyBackendPlugin> = {}): LazyBackendPlugin {
  const entry: LazyBackendPlugin = {
    type,
    schemes: [type],
    configKeys: ['bucket'],
    description: `the ${type} fixture`,
    module: url,
    load: async () => ((await import(url)) as { plugin: BackendPlugin }).plugin,
    ...extra,
  };
  const load = entry.load;
  return { ...entry, load: () => (loadCalls.set(url, loadsOf(url) + 1), load()) };
}

/** What the fixture plugins return instead of a real client. */
interface Made {
  made: 'url' | 'config';
  type: string;
  url?: string;
  config?: Record<string, unknown>;
  context?: unknown;
}
const made = (client: ReplicaClient) => client as unknown as Made;

describe('BackendRegistry lazy entries', () => {
  it('routes, lists and checks URLs by the facts alone: the module is not imported', async () => {
    const url = await backendModule('lazya');
    const checked: string[] = [];
    const registry = new BackendRegistry().registerLazy(
      lazyEntry('lazya', url, {
        checkURL(u) {
          checked.push(u);
          if (u.includes('bad')) throw new UsageError('lazya URL needs a bucket');
        },
      }),
    );

    expect(registry.list().map((b) => b.type)).toEqual(['lazya']);
    expect(registry.forType('lazya').configKeys).toEqual(['bucket']);
    expect(registry.resolve('lazya://bucket/db').plugin.type).toBe('lazya');
    expect(() => registry.resolve('lazya://bad')).toThrow(/needs a bucket/);
    expect(checked).toEqual(['lazya://bucket/db', 'lazya://bad']);
    expect(() => registry.resolve('nope://x')).toThrow(/unknown replica URL scheme "nope:\/\/"; installed backends: lazya \(lazya:\/\/\)/);
    // A bad URL fails at the check, before any import.
    await expect(registry.fromURL('lazya://bad')).rejects.toThrow(/needs a bucket/);
    expect(registry.isLoaded('lazya')).toBe(false);
    expect(loadsOf(url)).toBe(0);
    expect(importsOf(url)).toBe(0);
  });

  it('imports the module on first use of its scheme, once, and reuses the plugin', async () => {
    const url = await backendModule('lazyb');
    const registry = new BackendRegistry().registerLazy(lazyEntry('lazyb', url));
    expect(loadsOf(url)).toBe(0);

    // Concurrent first uses share one import.
    const [a, b] = await Promise.all([registry.fromURL('lazyb://one', { globals: { k: 1 } }), registry.fromURL('lazyb://two')]);
    expect(made(a)).toMatchObject({ made: 'url', type: 'lazyb', url: 'lazyb://one', context: { globals: { k: 1 } } });
    expect(made(b)).toMatchObject({ made: 'url', url: 'lazyb://two' });
    expect([loadsOf(url), importsOf(url)]).toEqual([1, 1]);
    expect(registry.isLoaded('lazyb')).toBe(true);

    const c = await registry.fromConfig({ type: 'lazyb', bucket: 'x' });
    expect(made(c)).toMatchObject({ made: 'config', config: { type: 'lazyb', bucket: 'x' } });
    expect((await registry.load('lazyb')).description).toBe('fixture');
    expect([loadsOf(url), importsOf(url)]).toEqual([1, 1]);
  });

  it('loads only the backend a config entry names, by type, by url or by path', async () => {
    const fileUrl = await backendModule('file');
    const otherUrl = await backendModule('other');
    const registry = new BackendRegistry().registerLazy(lazyEntry('file', fileUrl)).registerLazy(lazyEntry('other', otherUrl));

    expect(made(await registry.fromConfig({ type: 'other' })).type).toBe('other');
    expect([loadsOf(fileUrl), importsOf(fileUrl), importsOf(otherUrl)]).toEqual([0, 0, 1]);

    expect(made(await registry.fromConfig({ path: '/var/backups/app' })).type).toBe('file');
    expect(made(await registry.fromURL('relative/dir'))).toMatchObject({ type: 'file', url: pathToFileURL(join(process.cwd(), 'relative/dir')).href });
    expect(made(await registry.fromConfig({ url: 'other://b/p' })).type).toBe('other');
    expect([importsOf(fileUrl), importsOf(otherUrl)]).toEqual([1, 1]);
  });

  it('says which module failed and why when the import throws, and tries again on the next use', async () => {
    const broken = await backendModule('lazyc', `throw new Error("Cannot find package '@vendor/sdk' imported from the fixture");\n`);
    const good = await backendModule('lazyc');
    let target = broken;
    const registry = new BackendRegistry().registerLazy(lazyEntry('lazyc', broken, { module: '@example/backend-lazyc', load: async () => ((await import(target)) as { plugin: BackendPlugin }).plugin }));

    const error = await registry.fromURL('lazyc://b').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendLoadError);
    expect((error as BackendLoadError).message).toBe("cannot load the lazyc backend from @example/backend-lazyc: Cannot find package '@vendor/sdk' imported from the fixture");
    expect((error as BackendLoadError).module).toBe('@example/backend-lazyc');
    expect((error as BackendLoadError).type).toBe('lazyc');
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(importsOf(broken)).toBe(1);
    expect(registry.isLoaded('lazyc')).toBe(false);

    target = good;
    expect(made(await registry.fromURL('lazyc://b')).type).toBe('lazyc');
    expect(importsOf(good)).toBe(1);
  });

  it('names the module that is not installed', async () => {
    const missing = pathToFileURL(join(dir, 'not-there.mjs')).href;
    const registry = new BackendRegistry().registerLazy(lazyEntry('lazyd', missing));
    await expect(registry.fromConfig({ type: 'lazyd' })).rejects.toThrow(new RegExp(`^cannot load the lazyd backend from ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*not-there\\.mjs`));
  });

  it('refuses a module that does not provide the backend its entry announced', async () => {
    const wrongType = await backendModule('lazye');
    const notAPlugin = await backendModule('lazyf', 'export const plugin = { type: "lazyf" };\n');
    const registry = new BackendRegistry()
      .registerLazy(lazyEntry('other-type', wrongType, { schemes: ['othertype'] }))
      .registerLazy(lazyEntry('lazyf', notAPlugin))
      .registerLazy(lazyEntry('lazyg', await backendModule('lazyg'), { schemes: ['lazyg', 'lazyg2'] }));
    await expect(registry.fromURL('othertype://x')).rejects.toThrow('cannot load the other-type backend from ' + wrongType + ': it provides the "lazye" backend instead');
    await expect(registry.load('lazyf')).rejects.toThrow(/lazyf.*did not provide a backend plugin/);
    await expect(registry.load('lazyg')).rejects.toThrow(/does not serve lazyg2:\/\//);
  });

  it('keeps eager plugins as they were, and one owner per type and scheme across both kinds', async () => {
    const eager: BackendPlugin = {
      type: 'eager',
      schemes: ['eager'],
      configKeys: [],
      description: 'eager',
      fromURL: (url) => ({ made: 'url', type: 'eager', url }) as unknown as ReplicaClient,
      fromConfig: () => {
        throw new Error('not used');
      },
    };
    const url = await backendModule('lazyh');
    const registry = new BackendRegistry().register(eager).registerLazy(lazyEntry('lazyh', url));
    expect(registry.forType('eager')).toBe(eager);
    expect(registry.isLoaded('eager')).toBe(true);
    expect(await registry.load('eager')).toBe(eager);
    expect(made(await registry.fromURL('eager://x')).url).toBe('eager://x');
    expect(registry.list().map((b: BackendInfo) => b.type)).toEqual(['eager', 'lazyh']);

    expect(() => registry.registerLazy(lazyEntry('eager', url))).toThrow(/backend type "eager" is already registered/);
    expect(() => registry.register({ ...eager, type: 'x', schemes: ['lazyh'] })).toThrow(/URL scheme "lazyh:" is already registered by the lazyh backend/);
    expect(() => registry.registerLazy({ ...lazyEntry('y', url), load: undefined as unknown as LazyBackendPlugin['load'] })).toThrow(/has no load\(\)/);
    // Registering the same object twice is allowed, as before.
    expect(() => registry.register(eager)).not.toThrow();
    expect([loadsOf(url), importsOf(url)]).toEqual([0, 0]);
  });

  it('answers further config types (aliases) with the same backend, listed once, and refuses an alias another backend owns', async () => {
    const url = await backendModule('main');
    const registry = new BackendRegistry().registerLazy(lazyEntry('main', url, { aliases: ['other'] }));
    expect(registry.forType('other').type).toBe('main');
    expect(registry.list().map((b: BackendInfo) => b.type)).toEqual(['main']);
    expect([loadsOf(url), importsOf(url)]).toEqual([0, 0]);
    const client = made(await registry.fromConfig({ type: 'other', bucket: 'b' }));
    expect([client.made, client.type, client.config?.type]).toEqual(['config', 'main', 'other']);
    const second = await backendModule('second');
    expect(() => registry.registerLazy(lazyEntry('second', second, { aliases: ['other'] }))).toThrow(/backend type "other" is already registered/);
    expect(() => registry.registerLazy(lazyEntry('other', second))).toThrow(/backend type "other" is already registered/);
  });
});

describe('BackendRegistry: a scheme or type that a first-party package serves names the package', () => {
  const fileLike: LazyBackendPlugin = {
    type: 'file',
    schemes: ['file'],
    configKeys: ['path'],
    description: 'file',
    module: '@litestream-ts/backend-file',
    load: () => Promise.reject(new Error('not used')),
  };
  const s3Like: LazyBackendPlugin = { ...fileLike, type: 's3', schemes: ['s3'], configKeys: [], module: '@litestream-ts/backend-s3' };

  it.each([
    ['s3://bucket/db', '@litestream-ts/backend-s3', 's3://'],
    ['gs://bucket/db', '@litestream-ts/backend-gcs', 'gs://'],
    ['abs://container/db', '@litestream-ts/backend-abs', 'abs://'],
    ['nats://host/bucket', '@litestream-ts/backend-nats', 'nats://'],
    ['sftp://host/dir', '@litestream-ts/backend-sftp', 'sftp://'],
    ['webdav://host/dir', '@litestream-ts/backend-webdav', 'webdav://'],
    ['webdavs://host/dir', '@litestream-ts/backend-webdav', 'webdavs://'],
    ['oss://bucket/db', '@litestream-ts/backend-s3', 'oss://'],
    ['S3://bucket/db', '@litestream-ts/backend-s3', 's3://'],
  ])('%s', async (url, pkg, scheme) => {
    const registry = new BackendRegistry().registerLazy(fileLike);
    expect(() => registry.resolve(url)).toThrow(new UsageError(`${scheme} needs ${pkg}: npm install ${pkg} (installed backends: file (file://))`));
    await expect(registry.fromConfig({ url })).rejects.toThrow(`${scheme} needs ${pkg}: npm install ${pkg}`);
  });

  it('by config type, for checks and for clients', async () => {
    const registry = new BackendRegistry().registerLazy(fileLike);
    expect(() => registry.forType('abs')).toThrow(new UsageError('replica type "abs" needs @litestream-ts/backend-abs: npm install @litestream-ts/backend-abs (installed backends: file (file://))'));
    expect(() => registry.checkConfig({ type: 'gs', bucket: 'b' })).toThrow('replica type "gs" needs @litestream-ts/backend-gcs: npm install @litestream-ts/backend-gcs');
    await expect(registry.fromConfig({ type: 'webdav' })).rejects.toThrow('replica type "webdav" needs @litestream-ts/backend-webdav: npm install @litestream-ts/backend-webdav');
  });

  it('says to upgrade when the package is installed but does not serve the scheme', () => {
    const registry = new BackendRegistry().registerLazy(fileLike).registerLazy(s3Like);
    expect(() => registry.resolve('oss://bucket/db')).toThrow(
      'oss:// is served by @litestream-ts/backend-s3, but the installed version does not serve it: npm install @litestream-ts/backend-s3@latest (installed backends: file (file://), s3 (s3://))',
    );
  });

  it('keeps the plain message for schemes and types no first-party package serves', () => {
    const registry = new BackendRegistry().registerLazy(fileLike);
    expect(() => registry.resolve('ftp://host/x')).toThrow('unknown replica URL scheme "ftp://"; installed backends: file (file://)');
    expect(() => registry.forType('ftp')).toThrow('unknown replica type "ftp"; installed backends: file (file://)');
  });
});
