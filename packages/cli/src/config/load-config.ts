import { readFile } from 'node:fs/promises';
import { ConfigError } from './config-error.ts';
import { absolutePath } from './database-section.ts';
import { parseConfig, type ConfigOptions } from './parse-config.ts';
import type { LitestreamConfig } from './types.ts';

/**
 * Reads and checks a Litestream v0.5 config file (see `parseConfig`). A leading `~/` in the
 * path is the home directory. Throws `ConfigError` when the file is missing or unreadable,
 * naming the path and how to choose another one.
 */
export async function loadConfig(path: string, options: ConfigOptions): Promise<LitestreamConfig> {
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
  return parseConfig(text, { ...options, file });
}
