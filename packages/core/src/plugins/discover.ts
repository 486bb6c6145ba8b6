import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { BackendRegistry, type BackendInfo } from '../replica/registry.ts';
import { namedEntry, packageEntry, type EntryResult } from './module-entry.ts';
import { findBackendPackages } from './package-search.ts';
import { PluginError } from './plugin-error.ts';
import { checkPluginExport, type CheckedPlugin } from './plugin-shape.ts';

/** A plugin module named explicitly (config `plugins:`, `LITESTREAM_PLUGINS`, a command line). */
export interface PluginRequest {
  /** A package name (`litestream-backend-x`, `@scope/pkg`, `pkg/subpath`) or a path (`./plugin.mjs`, a package directory). */
  readonly module: string;
  /** Directory a relative path, and a package name first, is resolved from (default: `cwd`). */
  readonly base?: string;
  /** Where it was named, for errors (for example `config /etc/litestream.yml`). */
  readonly origin?: string;
}

/** Options of `discoverBackends`. */
export interface DiscoverOptions {
  /** The project directory: `node_modules` from here up are searched (default `process.cwd()`). */
  readonly cwd?: string;
  /** More directories searched the same way after `cwd`, e.g. the host's own (`import.meta.dirname`), so packages installed beside it are found. */
  readonly beside?: readonly string[];
  /** Plugin modules named explicitly; a string is a `PluginRequest` resolved from `cwd`. */
  readonly plugins?: readonly (string | PluginRequest)[];
  /** Where `LITESTREAM_PLUGINS` (comma-separated modules, paths resolved from `cwd`) is read (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** One plugin module that discovery loaded. */
export interface DiscoveredPlugin {
  /** The module as named, or the package name when found in `node_modules`. */
  readonly module: string;
  /** The file imported. */
  readonly file: string;
  /** How it was found: `node_modules`, or the request's origin. */
  readonly origin: string;
  /** Its backend's facts (the module's default export). */
  readonly info: BackendInfo;
}

/**
 * Builds the backend registry of a host (the `litestream` command, the conformance bin):
 *
 * - every installed `@litestream-ts/backend-*`, `litestream-backend-*` and
 *   `@scope/litestream-backend-*` package in the `node_modules` directories from `cwd` up, then
 *   from each `beside` directory up (a name found twice keeps the nearer one);
 * - the modules named in `plugins` and in `LITESTREAM_PLUGINS` (an explicit module replaces an
 *   installed package of the same name).
 *
 * A package's plugin module is its `./plugin` export when it has one, else its main entry; its
 * default export is a `LazyBackendPlugin` (registered without loading its SDK) or a
 * `BackendPlugin`. A module that cannot be found, imported or used, and two modules serving one
 * scheme or type, are a `PluginError` naming the modules and what is wrong.
 *
 * ```ts
 * import { discoverBackends } from '@litestream-ts/core/plugins';
 * const registry = await discoverBackends({ plugins: ['./my-backend.mjs'] });
 * const client = await registry.fromURL('myscheme://bucket/db');
 * ```
 */
export async function discoverBackends(options: DiscoverOptions = {}): Promise<BackendRegistry> {
  const registry = new BackendRegistry();
  for (const found of await discoverPlugins(options)) {
    if (found.plugin.kind === 'eager') registry.register(found.plugin.plugin);
    else registry.registerLazy(found.plugin.plugin);
  }
  return registry;
}

/** The plugin modules `discoverBackends` would register, imported and checked, in order. */
export async function discoverPlugins(options: DiscoverOptions = {}): Promise<(DiscoveredPlugin & { readonly plugin: CheckedPlugin })[]> {
  const cwd = options.cwd ?? process.cwd();
  const roots = [cwd, ...(options.beside ?? [])];
  const env = options.env ?? process.env;
  const requests: Required<PluginRequest>[] = [
    ...(options.plugins ?? []).map((p) => (typeof p === 'string' ? { module: p, base: cwd, origin: 'the plugins option' } : { module: p.module, base: p.base ?? cwd, origin: p.origin ?? 'the plugins option' })),
    ...parsePluginList(env.LITESTREAM_PLUGINS).map((module) => ({ module, base: cwd, origin: 'LITESTREAM_PLUGINS' })),
  ];

  const candidates: { module: string; origin: string; entry: EntryResult }[] = [];
  const explicitPackages = new Set<string>();
  for (const request of requests) {
    const entry = namedEntry(request.module, request.base, roots);
    if ('packageName' in entry && entry.packageName) explicitPackages.add(entry.packageName);
    candidates.push({ module: request.module, origin: request.origin, entry });
  }
  for (const found of findBackendPackages(roots)) {
    if (!explicitPackages.has(found.name)) candidates.push({ module: found.name, origin: `node_modules (${found.dir})`, entry: packageEntry(found.dir) });
  }

  const byFile = new Map<string, (typeof candidates)[number] & { file: string }>();
  for (const candidate of candidates) {
    const { entry } = candidate;
    if ('problem' in entry) throw new PluginError(candidate.module, `backend plugin ${candidate.module} (from ${candidate.origin}): ${entry.problem}`);
    const file = realFile(entry.file);
    if (!byFile.has(file)) byFile.set(file, { ...candidate, file });
  }

  const loaded = await Promise.all(
    [...byFile.values()].map(async (candidate) => {
      let namespace: { default?: unknown };
      try {
        namespace = (await import(pathToFileURL(candidate.file).href)) as { default?: unknown };
      } catch (cause) {
        throw new PluginError(candidate.module, `backend plugin ${candidate.module} (from ${candidate.origin}): cannot import ${candidate.file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
      const checked = checkPluginExport(namespace.default);
      if ('problem' in checked) throw new PluginError(candidate.module, `backend plugin ${candidate.module} (${candidate.file}, from ${candidate.origin}): ${checked.problem}`);
      const plugin: CheckedPlugin = checked.kind === 'lazy' && typeof checked.plugin.module !== 'string' ? { kind: 'lazy', plugin: { ...checked.plugin, module: candidate.module } } : checked;
      return { module: candidate.module, file: candidate.file, origin: candidate.origin, info: plugin.plugin, plugin };
    }),
  );
  checkNoOverlap(loaded);
  return loaded;
}

/** `a, b ,,c` → `['a', 'b', 'c']`. */
export function parsePluginList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** Two modules serving one scheme or type would make routing depend on load order: refuse. */
function checkNoOverlap(plugins: readonly DiscoveredPlugin[]): void {
  const owners = new Map<string, DiscoveredPlugin>();
  const claim = (key: string, what: string, plugin: DiscoveredPlugin) => {
    const owner = owners.get(key);
    if (owner && owner.info !== plugin.info) {
      throw new PluginError(
        plugin.module,
        `two backend plugins serve ${what}: ${owner.module} (${owner.file}, from ${owner.origin}) and ${plugin.module} (${plugin.file}, from ${plugin.origin}); uninstall one, or remove it from the config's plugins or LITESTREAM_PLUGINS`,
      );
    }
    owners.set(key, plugin);
  };
  for (const plugin of plugins) {
    claim(`type:${plugin.info.type}`, `the replica type "${plugin.info.type}"`, plugin);
    for (const scheme of plugin.info.schemes) claim(`scheme:${scheme}`, `${scheme}://`, plugin);
  }
}

function realFile(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
