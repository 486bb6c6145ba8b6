import { dirname, resolve } from 'node:path';
import { isScalar } from 'yaml';
import type { PluginRequest } from '@litestream-ts/core/plugins';
import { openConfigSource, type ConfigSource } from './config-source.ts';
import type { Environment } from './env-expansion.ts';
import { readText } from './values.ts';
import { isEmptyValue, readList, readMapping, type Entry } from './yaml-nodes.ts';

/**
 * `plugins: [module, …]` (or one module): backend plugin modules to load besides the installed
 * `@litestream-ts/backend-*` / `litestream-backend-*` packages. Each is a package name or a
 * path (starting with `./`, `../` or `/`) relative to the config file.
 */
export function readPlugins(source: ConfigSource, entry: Entry | undefined): string[] {
  if (!entry || isEmptyValue(entry.value)) return [];
  const items = isScalar(entry.value) ? [{ node: entry.value, path: entry.path }] : readList(source, entry);
  return items.map((item) => {
    const text = readText(source, { key: entry.key, keyNode: entry.keyNode, value: item.node, path: item.path }, 'a package name or a path');
    if (!text) throw source.error(item.node, item.path, 'empty plugin module: give a package name or a path such as ./my-backend.mjs');
    return text;
  });
}

/**
 * The plugin modules a config file names, read before the rest of the file (whose backend keys
 * and URL schemes depend on them), as requests resolved from the file's directory. Throws
 * `ConfigError` for a file that does not parse or a `plugins` value that is not a list of names.
 */
export function configPlugins(text: string, options: { file: string; env?: Environment; noExpandEnv?: boolean }): PluginRequest[] {
  const source = openConfigSource(text, options);
  const contents = source.document.contents;
  if (isEmptyValue(contents)) return [];
  const root = readMapping(source, contents, '');
  const base = dirname(resolve(options.file));
  return readPlugins(source, root.entries.get('plugins')).map((module) => ({ module, base, origin: `config ${options.file}` }));
}
