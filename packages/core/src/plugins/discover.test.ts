import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverBackends, discoverPlugins } from './discover.ts';
import { PluginError } from './plugin-error.ts';

// Every case builds a real project tree in a temporary directory: package.json files, plugin
// modules, node_modules directories. Each module records its own evaluation in a global list,
// so "not imported" is observed, not assumed.
const EVALUATED = Symbol.for('litestream-ts.discover-test.evaluated');
const evaluated = (): string[] => ((globalThis as Record<symbol, string[] | undefined>)[EVALUATED] ??= []);
const record = (tag: string) => `(globalThis[Symbol.for('litestream-ts.discover-test.evaluated')] ??= []).push(${JSON.stringify(tag)});\n`;

let root: string;
let counter = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'lts-discover-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function write(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** A fresh directory for one case. */
async function project(): Promise<string> {
  const dir = join(root, `p${++counter}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** Source of an eager plugin module serving `type` (scheme `type`) whose clients say where they came from. */
function eagerSource(type: string, tag: string, schemes: readonly string[] = [type]): string {
  return (
    record(tag) +
    `export default {
  type: ${JSON.stringify(type)}, schemes: ${JSON.stringify(schemes)}, configKeys: ['bucket'], description: ${JSON.stringify(tag)},
  fromURL(url) { return { from: ${JSON.stringify(tag)}, url }; },
  fromConfig(config) { return { from: ${JSON.stringify(tag)}, config }; },
};\n`
  );
}

/**
 * A backend package in `modules/name`: its `./plugin` export (or its main entry, with
 * `pluginExport: false`) is a lazy entry whose `load()` imports `backend.js`, which stands for
 * the module that would pull in an SDK.
 */
async function backendPackage(modules: string, name: string, type: string, options: { pluginExport?: boolean; tag?: string } = {}): Promise<string> {
  const dir = join(modules, name);
  const tag = options.tag ?? name;
  const pluginFile = options.pluginExport === false ? 'index.js' : 'plugin.js';
  const exportsField = options.pluginExport === false ? { '.': { import: './index.js' } } : { '.': './backend.js', './plugin': { types: './plugin.d.ts', default: './plugin.js' } };
  await write(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: exportsField }));
  await write(
    join(dir, pluginFile),
    record(`${tag}:plugin`) +
      `export default {
  type: ${JSON.stringify(type)}, schemes: [${JSON.stringify(type)}], configKeys: [], description: ${JSON.stringify(tag)},
  module: ${JSON.stringify(name)},
  load: async () => (await import('./backend.js')).default,
};\n`,
  );
  await write(join(dir, 'backend.js'), eagerSource(type, `${tag}:backend`));
  return dir;
}

const types = async (options: Parameters<typeof discoverBackends>[0]) => (await discoverBackends({ env: {}, ...options })).list().map((b) => b.type);

describe('discoverBackends: installed packages', () => {
  it('finds @litestream-ts/backend-*, litestream-backend-* and @scope/litestream-backend-* packages, and nothing else', async () => {
    const dir = await project();
    const modules = join(dir, 'node_modules');
    await backendPackage(modules, '@litestream-ts/backend-alpha', 'alpha');
    await backendPackage(modules, 'litestream-backend-beta', 'beta', { pluginExport: false });
    await backendPackage(modules, '@acme/litestream-backend-gamma', 'gamma');
    await backendPackage(modules, 'some-library', 'notme');
    await backendPackage(modules, '@acme/other', 'notme2');
    await backendPackage(modules, '@litestream-ts/core-ish', 'notme3');
    expect(await types({ cwd: dir })).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('registers lazy entries without importing their backend module; the first use of the scheme imports it', async () => {
    const dir = await project();
    await backendPackage(join(dir, 'node_modules'), '@litestream-ts/backend-lazy1', 'lazy1', { tag: 'lazy1' });
    const registry = await discoverBackends({ cwd: dir, env: {} });
    expect(evaluated()).toContain('lazy1:plugin');
    expect(evaluated()).not.toContain('lazy1:backend');
    expect(registry.resolve('lazy1://bucket/db').plugin.type).toBe('lazy1');
    expect(evaluated()).not.toContain('lazy1:backend');
    expect(await registry.fromURL('lazy1://bucket/db')).toEqual({ from: 'lazy1:backend', url: 'lazy1://bucket/db' });
    expect(evaluated()).toContain('lazy1:backend');
  });

  it('searches node_modules from cwd up, then beside the host; the nearer copy of a package wins', async () => {
    const top = await project();
    const cwd = join(top, 'app', 'sub');
    await mkdir(cwd, { recursive: true });
    await backendPackage(join(top, 'node_modules'), 'litestream-backend-far', 'far');
    // The same package twice: the copy nearer cwd serves "near2", the one above "near1".
    await backendPackage(join(top, 'node_modules'), 'litestream-backend-near', 'near1');
    await backendPackage(join(top, 'app', 'node_modules'), 'litestream-backend-near', 'near2');
    const host = await project();
    await backendPackage(join(host, 'node_modules'), 'litestream-backend-beside', 'beside');
    expect(await types({ cwd })).toEqual(['far', 'near2']);
    expect(await types({ cwd, beside: [join(host, 'lib', 'cli', 'dist')] })).toEqual(['beside', 'far', 'near2']);
  });

  it('finds a package once when cwd and the host see the same node_modules (pnpm symlinks included)', async () => {
    const dir = await project();
    const real = await backendPackage(join(dir, 'store'), 'litestream-backend-linked', 'linked');
    await mkdir(join(dir, 'node_modules'), { recursive: true });
    await symlink(real, join(dir, 'node_modules', 'litestream-backend-linked'));
    await mkdir(join(dir, 'host', 'node_modules'), { recursive: true });
    await symlink(real, join(dir, 'host', 'node_modules', 'litestream-backend-linked'));
    expect(await types({ cwd: dir, beside: [join(dir, 'host')] })).toEqual(['linked']);
  });
});

describe('discoverBackends: plugins named explicitly', () => {
  it('loads a module file named by a path relative to its base (the config file\'s directory), eager or lazy', async () => {
    const dir = await project();
    await write(join(dir, 'conf', 'my-plugin.mjs'), eagerSource('mine', 'mine-explicit'));
    const registry = await discoverBackends({ cwd: dir, env: {}, plugins: [{ module: './my-plugin.mjs', base: join(dir, 'conf'), origin: 'config litestream.yml' }] });
    expect(registry.list().map((b) => b.type)).toEqual(['mine']);
    expect(registry.isLoaded('mine')).toBe(true);
    expect(await registry.fromURL('mine://x/y')).toEqual({ from: 'mine-explicit', url: 'mine://x/y' });
  });

  it('takes LITESTREAM_PLUGINS as a comma-separated list of paths (from cwd) and package names', async () => {
    const dir = await project();
    await write(join(dir, 'one.mjs'), eagerSource('envone', 'envone'));
    // Not a discoverable name: found only because it is named.
    await backendPackage(join(dir, 'node_modules'), 'my-private-backend', 'envtwo');
    await backendPackage(join(dir, 'vendor'), 'dir-backend', 'envthree');
    const env = { LITESTREAM_PLUGINS: ' ./one.mjs , my-private-backend,,./vendor/dir-backend ' };
    expect(await types({ cwd: dir, env })).toEqual(['envone', 'envthree', 'envtwo']);
  });

  it('resolves a package name from the base first, then from cwd and the host, and accepts a subpath', async () => {
    const dir = await project();
    await backendPackage(join(dir, 'conf', 'node_modules'), 'conf-backend', 'fromconf');
    await backendPackage(join(dir, 'node_modules'), 'cwd-backend', 'fromcwd');
    await backendPackage(join(dir, 'conf', 'node_modules'), 'dual-backend', 'dualconf');
    await backendPackage(join(dir, 'node_modules'), 'dual-backend', 'dualcwd');
    const plugins = [
      { module: 'conf-backend', base: join(dir, 'conf') },
      { module: 'cwd-backend/plugin', base: join(dir, 'conf') },
      { module: 'dual-backend', base: join(dir, 'conf') },
    ];
    expect(await types({ cwd: dir, plugins })).toEqual(['dualconf', 'fromconf', 'fromcwd']);
  });

  it('counts a module once when it is both installed and named, from the config and from the environment', async () => {
    const dir = await project();
    await backendPackage(join(dir, 'node_modules'), 'litestream-backend-twice', 'twice');
    const plugins = await discoverPlugins({
      cwd: dir,
      plugins: ['litestream-backend-twice', './node_modules/litestream-backend-twice/plugin.js'],
      env: { LITESTREAM_PLUGINS: 'litestream-backend-twice' },
    });
    expect(plugins.map((p) => p.info.type)).toEqual(['twice']);
    expect(plugins[0]!.origin).toBe('the plugins option');
  });

  it('fills in the module of a lazy entry that does not name one, for load errors', async () => {
    const dir = await project();
    await write(join(dir, 'broken-lazy.mjs'), `export default { type: 'brk', schemes: ['brk'], configKeys: [], description: 'x', load: async () => { throw new Error('the SDK is missing'); } };\n`);
    const registry = await discoverBackends({ cwd: dir, env: {}, plugins: ['./broken-lazy.mjs'] });
    await expect(registry.fromURL('brk://a/b')).rejects.toThrow('cannot load the brk backend from ./broken-lazy.mjs: the SDK is missing');
  });
});

describe('discoverBackends: broken plugins are clear errors', () => {
  async function failure(options: Parameters<typeof discoverBackends>[0]): Promise<PluginError> {
    const error = await discoverBackends({ env: {}, ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).code).toBe('ERR_LITESTREAM_PLUGIN');
    return error as PluginError;
  }

  it('a path that does not exist, or a package that is not installed', async () => {
    const dir = await project();
    const missing = await failure({ cwd: dir, plugins: [{ module: './nope.mjs', base: dir, origin: 'config /x/litestream.yml' }] });
    expect(missing.message).toBe(`backend plugin ./nope.mjs (from config /x/litestream.yml): ${join(dir, 'nope.mjs')} does not exist`);
    expect(missing.module).toBe('./nope.mjs');
    const absent = await failure({ cwd: dir, env: { LITESTREAM_PLUGINS: 'litestream-backend-absent' } });
    expect(absent.message).toMatch(/^backend plugin litestream-backend-absent \(from LITESTREAM_PLUGINS\): package litestream-backend-absent is not installed .*npm install litestream-backend-absent$/);
  });

  it('a module that throws when imported', async () => {
    const dir = await project();
    await write(join(dir, 'throws.mjs'), `throw new Error('boom at import');\n`);
    await write(join(dir, 'syntax.mjs'), `export default {\n`);
    const thrown = await failure({ cwd: dir, plugins: ['./throws.mjs'] });
    expect(thrown.message).toBe(`backend plugin ./throws.mjs (from the plugins option): cannot import ${join(dir, 'throws.mjs')}: boom at import`);
    const syntax = await failure({ cwd: dir, plugins: ['./syntax.mjs'] });
    expect(syntax.message).toMatch(/^backend plugin \.\/syntax\.mjs \(from the plugins option\): cannot import .*syntax\.mjs: /);
  });

  it('an installed package whose plugin entry is missing (not built)', async () => {
    const dir = await project();
    const pkg = join(dir, 'node_modules', 'litestream-backend-unbuilt');
    await write(join(pkg, 'package.json'), JSON.stringify({ name: 'litestream-backend-unbuilt', type: 'module', exports: { './plugin': './dist/plugin.js' } }));
    const error = await failure({ cwd: dir });
    expect(error.message).toBe(`backend plugin litestream-backend-unbuilt (from node_modules (${pkg})): litestream-backend-unbuilt's "./plugin" entry ${join(pkg, 'dist/plugin.js')} does not exist (is the package built?)`);
  });

  it('a default export that is missing or is not a plugin, naming what is wrong', async () => {
    const dir = await project();
    await write(join(dir, 'named-only.mjs'), `export const plugin = {};\n`);
    await write(join(dir, 'half.mjs'), `export default { type: 'half', schemes: ['half:'], configKeys: 'bucket', description: 'x', fromURL() {} };\n`);
    expect((await failure({ cwd: dir, plugins: ['./named-only.mjs'] })).message).toMatch(/\.\/named-only\.mjs .*: it has no default export \(export default a BackendPlugin or a LazyBackendPlugin\)$/);
    const half = await failure({ cwd: dir, plugins: ['./half.mjs'] });
    expect(half.message).toContain('its default export is not a backend plugin');
    expect(half.message).toContain('"schemes" holds "half:": write schemes in lower case, without ":" or "//"');
    expect(half.message).toContain('"configKeys" must be a list of strings');
    expect(half.message).toContain('it needs fromURL() and fromConfig() (a BackendPlugin) or load() (a LazyBackendPlugin)');
  });

  it('two plugins serving one scheme, naming both', async () => {
    const dir = await project();
    await backendPackage(join(dir, 'node_modules'), 'litestream-backend-first', 'first');
    await write(join(dir, 'second.mjs'), eagerSource('second', 'second', ['first']));
    const error = await failure({ cwd: dir, plugins: ['./second.mjs'] });
    expect(error.message).toMatch(/^two backend plugins serve first:\/\/: \.\/second\.mjs \(.*second\.mjs, from the plugins option\) and litestream-backend-first \(.*plugin\.js, from node_modules \(.*\)\); uninstall one/);
    // And one config type.
    await write(join(dir, 'third.mjs'), eagerSource('first', 'third', ['third']));
    expect((await failure({ cwd: dir, plugins: ['./third.mjs'] })).message).toMatch(/^two backend plugins serve the replica type "first": /);
  });
});
