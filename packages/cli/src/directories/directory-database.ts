import { join, relative, sep } from 'node:path';
import type { BackendRegistry } from '@litestream-ts/core';
import type { DatabaseConfig, DirectoryConfig } from '../config/types.ts';
import { childReplicaSettings } from './child-replica.ts';

/** The `/`-separated path of `file` below the directory `dir`, or undefined when it is not below it. */
export function relativeToDirectory(dir: string, file: string): string | undefined {
  const rel = relative(dir, file);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) return undefined;
  return rel.split(sep).join('/');
}

/**
 * The config of the database `file` found under a directory entry: the entry's settings, its
 * replica with the relative path appended (see `childReplicaSettings`), and its metadata
 * directory (`meta-dir`: `<meta-dir>/<relative path>-litestream`; `meta-path`:
 * `<meta-path>/<relative dir>/.<name>-litestream`; else beside the database, as for any database).
 */
export function directoryDatabase(registry: BackendRegistry, entry: DirectoryConfig, file: string): DatabaseConfig {
  const rel = relativeToDirectory(entry.dir, file);
  if (rel === undefined) throw new Error(`${file} is not below ${entry.dir}`);
  const { dir: _dir, pattern: _pattern, recursive: _recursive, watch: _watch, metaDir, metaPath, entry: _entry, replica, ...settings } = entry;
  const parts = rel.split('/');
  const meta =
    metaDir !== undefined
      ? join(metaDir, ...parts.slice(0, -1), `${parts[parts.length - 1]}-litestream`)
      : metaPath !== undefined
        ? join(metaPath, ...parts.slice(0, -1), `.${parts[parts.length - 1]}-litestream`)
        : undefined;
  const childSettings = childReplicaSettings(registry, replica.settings, rel);
  const url = typeof childSettings.url === 'string' ? childSettings.url : undefined;
  return {
    ...settings,
    path: file,
    ...(meta !== undefined ? { metaPath: meta } : {}),
    replica: { ...replica, ...(url !== undefined ? { url } : {}), settings: childSettings },
  };
}
