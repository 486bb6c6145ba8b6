import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError, compareReplicaLocations } from '@litestream-ts/core';
import lazyMySchemeBackend from './plugin.ts';
import { SqliteFileReplicaClient } from './sqlite-file-replica-client.ts';

const scratch = await mkdtemp(join(tmpdir(), 'litestream-myscheme-plugin-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('the myscheme plugin', () => {
  it('routes myscheme:// URLs and type: myscheme entries to a SqliteFileReplicaClient through a registry', async () => {
    const registry = new BackendRegistry().registerLazy(lazyMySchemeBackend);
    const store = join(scratch, 'routed.sqlite');
    const fromURL = await registry.fromURL(`myscheme://${store}?path=app/main`);
    expect(fromURL).toBeInstanceOf(SqliteFileReplicaClient);
    expect((fromURL as SqliteFileReplicaClient).address).toEqual({ file: store, path: 'app/main' });
    await fromURL.writeObject('marker.json', new TextEncoder().encode('{}'));
    const fromConfig = await registry.fromConfig({ type: 'myscheme', store, path: '/app/main/' }, { timeouts: { requestTimeout: 5_000 } });
    expect(fromConfig.timeouts.requestTimeout).toBe(5_000);
    expect(new TextDecoder().decode((await fromConfig.readObject('marker.json'))?.data)).toBe('{}');
    await fromURL.close();
    await fromConfig.close();
  });

  it('refuses malformed URLs and config entries with UsageError before anything is loaded', () => {
    const registry = new BackendRegistry().registerLazy(lazyMySchemeBackend);
    for (const url of ['myscheme://host/x.sqlite', 'myscheme:///', 'myscheme:///dir/', 'myscheme:///x.sqlite?bucket=a', 'myscheme:///x.sqlite?path=a/../b']) {
      expect(() => registry.resolve(url), url).toThrow(UsageError);
    }
    for (const config of [{ type: 'myscheme' }, { type: 'myscheme', store: 7 }, { type: 'myscheme', url: 'myscheme:///a.sqlite', store: '/a.sqlite' }]) {
      expect(() => registry.checkConfig(config), JSON.stringify(config)).toThrow(UsageError);
    }
    expect(registry.isLoaded('myscheme')).toBe(false);
  });

  it('locates a URL and the same place given as store and path keys as one replica, and tells other paths apart', () => {
    const url = lazyMySchemeBackend.locate!({ url: 'myscheme:///var/backups/all.sqlite?path=app/' });
    expect(compareReplicaLocations(url, lazyMySchemeBackend.locate!({ store: '/var/backups/all.sqlite', path: 'app' }))).toBe('same');
    expect(compareReplicaLocations(url, lazyMySchemeBackend.locate!({ store: '/var/backups/all.sqlite', path: 'app/x' }))).toBe('nested');
    expect(compareReplicaLocations(url, lazyMySchemeBackend.locate!({ store: '/var/backups/other.sqlite', path: 'app' }))).toBeUndefined();
  });

  it('imports neither the client nor better-sqlite3 until load() (built module, recorded by a loader hook)', async () => {
    const plugin = pathToFileURL(resolve(import.meta.dirname, '../dist/plugin.js')).href;
    const hook = join(scratch, 'record.mjs');
    await writeFile(
      hook,
      `import { registerHooks } from 'node:module';
globalThis.loadedModules = [];
registerHooks({ load(url, context, next) { globalThis.loadedModules.push(url); return next(url, context); } });`,
    );
    const script = `
const heavy = () => globalThis.loadedModules.filter((u) => /better-sqlite3|sqlite-file-replica-client/.test(u));
const lazy = (await import(${JSON.stringify(plugin)})).default;
const before = heavy();
const loaded = await lazy.load();
console.log(JSON.stringify({ before, after: heavy().length, type: loaded.type }));`;
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(hook).href, '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as { before: string[]; after: number; type: string };
    expect(report.before).toEqual([]);
    // The positive control: load() does bring both in.
    expect(report.after).toBeGreaterThanOrEqual(2);
    expect(report.type).toBe('myscheme');
  });
});
