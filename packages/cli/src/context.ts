import { resolve } from 'node:path';
import type { Logger, ReplicaClient } from '@litestream-ts/core';
import type { DatabaseConfig, LitestreamConfig } from './config/types.ts';
import { CliError } from './cli-error.ts';
import type { DeferredRegistry } from './deferred-registry.ts';

// The config loader (YAML parser, core, the backends' facts) is imported by the commands that
// read a config, when they run: `version` and `--help` do not pay for it.

/** Options every config-reading command accepts. */
export interface ConfigOptions {
  readonly config?: string;
  readonly expandEnv?: boolean;
}

/** Reads the config file named by `-config`, `$LITESTREAM_CONFIG` or the default path. */
export async function readConfig(registry: DeferredRegistry, options: ConfigOptions, extra: { requireDatabases?: boolean } = {}): Promise<LitestreamConfig> {
  const { defaultConfigPath, loadConfig } = await import('./config/index.ts');
  const path = options.config ?? defaultConfigPath(process.env);
  return loadConfig(path, { registry: (plugins) => registry.get(plugins), noExpandEnv: options.expandEnv === false, requireDatabases: extra.requireDatabases ?? false });
}

/** A config for `litestream replicate DB URL`: one database, one replica, defaults for the rest. */
export async function shorthandConfig(registry: DeferredRegistry, db: string, url: string): Promise<LitestreamConfig> {
  const { parseConfig } = await import('./config/index.ts');
  const text = JSON.stringify({ dbs: [{ path: resolve(db), replica: { url } }] });
  return parseConfig(text, { file: '(command line)', registry: await registry.get(), noExpandEnv: true, requireDatabases: true });
}

/**
 * The database entry of a config whose path matches `db`, or the database a `dir` entry would
 * replicate at that path (it need not exist: `restore` recreates it), or a clear error listing them.
 */
export async function findDatabase(config: LitestreamConfig, db: string, registry: DeferredRegistry): Promise<DatabaseConfig> {
  const path = resolve(db);
  const found = config.dbs.find((d) => d.path === path);
  if (found) return found;
  if (config.dirs.length > 0) {
    const { directoryDatabaseAt } = await import('./directories/index.ts');
    const inDirectory = directoryDatabaseAt(config, await registry.get(), path);
    if (inDirectory) return inDirectory;
  }
  const known = [...config.dbs.map((d) => d.path), ...config.dirs.map((d) => `databases matching ${JSON.stringify(d.pattern)} in ${d.dir}${d.recursive ? ' and below' : ''}`)].join(', ') || '(none)';
  throw new CliError(`database ${path} is not in the config; configured databases: ${known}`);
}

/** Builds the replica client of a configured database (importing its backend on first use). */
export async function replicaClientFor(registry: DeferredRegistry, db: DatabaseConfig, logger: Logger): Promise<ReplicaClient> {
  return registry.fromConfig(db.replica.settings, { warn: (message) => logger.warn(message) });
}

/** True when a command-line source is a replica URL rather than a database path. */
export function isReplicaURL(text: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text);
}
