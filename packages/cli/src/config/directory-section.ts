import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { UsageError, type BackendRegistry } from '@litestream-ts/core';
import { isMap, type Node } from 'yaml';
import { childReplicaSettings } from '../directories/child-replica.ts';
import { compileNamePattern, NamePatternError } from '../directories/name-pattern.ts';
import type { ConfigSource } from './config-source.ts';
import { absolutePath } from './database-section.ts';
import { readBoolean, readLocation, readText } from './values.ts';
import type { DirectoryConfig } from './types.ts';
import { isEmptyValue, readMapping, type Entry, type Mapping } from './yaml-nodes.ts';

/** The keys of a `dir` entry besides the database settings it shares with `path` entries. */
export interface DirectoryKeys {
  readonly dir: string;
  readonly pattern: string;
  readonly recursive: boolean;
  readonly watch: boolean;
  readonly metaDir?: string;
}

/** Keys that only mean something with `dir`. */
const DIRECTORY_ONLY = ['pattern', 'recursive', 'watch', 'meta-dir'] as const;

/**
 * Reads `dir`, `pattern`, `recursive`, `watch` and `meta-dir` of a `dbs[]` entry, checked as
 * Litestream v0.5 does (`dir` or `path`, not both; `pattern` required with `dir`; the others
 * only with `dir`; `meta-dir` or `meta-path`, not both), plus a well-formed pattern. Undefined
 * for an entry without `dir`.
 */
export function readDirectoryKeys(source: ConfigSource, mapping: Mapping, path: string, cwd: string): DirectoryKeys | undefined {
  const get = (key: string): Entry | undefined => {
    const entry = mapping.entries.get(key);
    return entry && !isEmptyValue(entry.value) ? entry : undefined;
  };
  const dirEntry = get('dir');
  if (!dirEntry) {
    for (const key of DIRECTORY_ONLY) {
      const entry = get(key);
      if (entry) throw source.error(entry.keyNode, entry.path, `"${key}" only applies to a directory of databases ("dir"), not to a single database ("path")`);
    }
    return undefined;
  }
  const pathEntry = get('path');
  if (pathEntry) throw source.error(pathEntry.keyNode, pathEntry.path, 'set either "path" (one database) or "dir" (a directory of databases), not both');
  const written = readLocation(source, dirEntry)!;
  const patternEntry = get('pattern');
  if (!patternEntry) throw source.error(dirEntry.keyNode, `${path}.pattern`, 'missing "pattern": which files of the directory to replicate (for example pattern: "*.db")');
  const pattern = readText(source, patternEntry)!;
  try {
    compileNamePattern(pattern);
  } catch (cause) {
    if (!(cause instanceof NamePatternError)) throw cause;
    throw source.error(patternEntry.value, patternEntry.path, `invalid pattern ${JSON.stringify(pattern)}: ${cause.message}`, { cause });
  }
  const metaDirEntry = get('meta-dir');
  const metaPathEntry = get('meta-path');
  if (metaDirEntry && metaPathEntry) throw source.error(metaDirEntry.keyNode, metaDirEntry.path, 'set either "meta-dir" or "meta-path", not both');
  const metaDir = metaDirEntry && readLocation(source, metaDirEntry);
  const flag = (key: string): boolean => {
    const entry = get(key);
    return (entry && readBoolean(source, entry)) ?? false;
  };
  return {
    dir: absolutePath(written, cwd),
    pattern,
    recursive: flag('recursive'),
    watch: flag('watch'),
    ...(metaDir ? { metaDir: absolutePath(metaDir, cwd) } : {}),
  };
}

/** The directory must exist (as Litestream requires, with or without `watch`). */
export function checkDirectory(source: ConfigSource, entry: Entry, dir: string, cwd: string): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const written = readText(source, entry) ?? '';
    const relative = isAbsolute(written) || written.startsWith('~') ? '' : ` (relative paths are taken from the working directory, ${cwd})`;
    const detail = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(cause)})`;
    throw source.error(entry.value, entry.path, `directory ${JSON.stringify(dir)} ${detail}${relative}`, { cause });
  }
  if (!isDirectory) throw source.error(entry.value, entry.path, `${JSON.stringify(dir)} is not a directory; "dir" names the directory that holds the databases`);
}

/**
 * Each database found under the directory replicates to the directory's replica with its
 * relative path appended; a backend that cannot place one there fails now, at the replica's line.
 */
export function checkDirectoryReplica(source: ConfigSource, registry: BackendRegistry, directory: DirectoryConfig, node: Node | null, path: string): void {
  try {
    childReplicaSettings(registry, directory.replica.settings, 'sub/example.db');
  } catch (cause) {
    if (!(cause instanceof UsageError)) throw cause;
    const replica = readMapping(source, node, path).entries.get('replica');
    const at = replica && isMap(replica.value) ? readMapping(source, replica.value, replica.path).entries.get('url') : undefined;
    throw source.error(at?.value ?? replica?.keyNode ?? node, at?.path ?? replica?.path ?? path, cause.message, { cause });
  }
}
