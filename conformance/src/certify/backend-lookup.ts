import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BackendRegistry, UsageError, type BackendPlugin, type LazyBackendPlugin } from '@litestream-ts/core';

/**
 * The backend registry the certification runs with. This is the one place that finds
 * backends: it is meant to become `discoverBackends()` from `@litestream-ts/core/plugins`
 * (the CLI's discovery) in a one-line change.
 *
 * Until then it registers each first-party backend package (`@litestream-ts/backend-*`) that
 * resolves from the current directory or beside this package, plus the modules listed in
 * `LITESTREAM_PLUGINS` (comma-separated package names, or paths relative to the current
 * directory). A module's `./plugin` export is used when it has one, else its main entry; its
 * default export is a `BackendPlugin` or a `LazyBackendPlugin`.
 */
export async function loadBackends(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<BackendRegistry> {
  const registry = new BackendRegistry();
  const explicit = (env.LITESTREAM_PLUGINS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const specifier of explicit) {
    const plugin = await importPlugin(specifier, cwd);
    if (plugin === undefined) throw new UsageError(`LITESTREAM_PLUGINS names ${JSON.stringify(specifier)}, which cannot be found from ${cwd}`);
    add(registry, plugin, specifier);
  }
  for (const name of FIRST_PARTY) {
    const plugin = await importPlugin(name, cwd);
    if (plugin !== undefined && !registry.list().some((b) => b.type === plugin.type)) add(registry, plugin, name);
  }
  return registry;
}

const FIRST_PARTY = ['file', 's3', 'abs', 'gcs', 'nats', 'sftp'].map((b) => `@litestream-ts/backend-${b}`);

type AnyPlugin = BackendPlugin | LazyBackendPlugin;

function add(registry: BackendRegistry, plugin: AnyPlugin, from: string): void {
  if (typeof (plugin as LazyBackendPlugin).load === 'function') registry.registerLazy(plugin as LazyBackendPlugin);
  else if (typeof (plugin as BackendPlugin).fromURL === 'function') registry.register(plugin as BackendPlugin);
  else throw new UsageError(`${from} does not export a backend plugin (a default export with fromURL/fromConfig, or a lazy one with load)`);
}

/** Imports a plugin module by package name or path; undefined when it cannot be resolved. */
async function importPlugin(specifier: string, cwd: string): Promise<AnyPlugin | undefined> {
  const isPath = specifier.startsWith('.') || isAbsolute(specifier);
  const candidates = isPath ? [resolve(cwd, specifier)] : [`${specifier}/plugin`, specifier];
  const requirers = [createRequire(join(cwd, 'noop.js')), createRequire(import.meta.url)];
  for (const candidate of candidates) {
    for (const req of requirers) {
      let file: string;
      try {
        file = req.resolve(candidate);
      } catch {
        continue;
      }
      const module = (await import(pathToFileURL(file).href)) as { default?: AnyPlugin };
      if (module.default === undefined) throw new UsageError(`${specifier} (${file}) has no default export: a backend module's default export is its plugin`);
      return module.default;
    }
  }
  return undefined;
}
