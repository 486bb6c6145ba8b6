import { readFile } from 'node:fs/promises';
import type { BackendRegistry } from '@litestream-ts/core';
import type { PluginRequest } from '@litestream-ts/core/plugins';
import { ConfigError } from './config-error.ts';
import { absolutePath } from './database-section.ts';
import { parseConfig, type ConfigOptions } from './parse-config.ts';
import { configPlugins } from './plugins-section.ts';
import type { LitestreamConfig } from './types.ts';

/** Options of `loadConfig`: those of `parseConfig`, with a registry that may depend on the file's `plugins`. */
export interface LoadConfigOptions extends Omit<ConfigOptions, 'registry'> {
  /**
   * The installed backends, or a function building them from the plugin modules the file names
   * in `plugins:` (requests resolved from the file's directory), called before the rest is read.
   */
  readonly registry: BackendRegistry | ((plugins: readonly PluginRequest[]) => Promise<BackendRegistry>);
}

/**
 * Reads and checks a Litestream v0.5 config file (see `parseConfig`). A leading `~/` in the
 * path is the home directory. Throws `ConfigError` when the file is missing or unreadable,
 * naming the path and how to choose another one.
 */
export async function loadConfig(path: string, options: LoadConfigOptions): Promise<LitestreamConfig> {
  const file = path === '~' || path.startsWith('~/') ? absolutePath(path, process.cwd()) : path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const how = 'pass one with -config PATH or set LITESTREAM_CONFIG';
    if (code === 'ENOENT') throw new ConfigError(file, `config file not found; ${how}`, {}, { cause });
    if (code === 'EISDIR') throw new ConfigError(file, `is a directory, not a config file; ${how}`, {}, { cause });
    throw new ConfigError(file, `cannot read the config file (${code ?? String(cause)})`, {}, { cause });
  }
  const registry = typeof options.registry === 'function' ? await options.registry(configPlugins(text, { file, ...(options.env ? { env: options.env } : {}), ...(options.noExpandEnv ? { noExpandEnv: true } : {}) })) : options.registry;
  return parseConfig(text, { ...options, registry, file });
}
