import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { InvalidSettingError, UsageError, replicaLocation, type ReplicaLocation } from '@litestream-ts/core';

/**
 * Where a replica lives: a SQLite file (the store) and a path inside it. One store file can
 * hold many replicas, each under its own path, the way one bucket holds many prefixes.
 *
 * Everything here is plain parsing, with no SQLite: the plugin module uses it to check URLs and
 * config entries before the backend is loaded.
 */
export interface StoreAddress {
  /** Absolute path of the SQLite file that holds the replica. */
  readonly file: string;
  /** The replica's path inside the store, normalised ('' for the store's root). */
  readonly path: string;
}

/** URL scheme and config type of this backend. */
export const SCHEME = 'myscheme';

/**
 * Parses `myscheme:///abs/path/store.sqlite?path=replica/path`: the URL path names the store
 * file, the optional `path` query parameter the replica inside it.
 */
export function addressFromURL(text: string): StoreAddress {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid ${SCHEME} URL ${JSON.stringify(text)}; expected ${SCHEME}:///path/to/store.sqlite`, { cause });
  }
  if (url.protocol !== `${SCHEME}:`) throw new UsageError(`the ${SCHEME} backend cannot open ${url.protocol}// URLs`);
  if (url.host !== '') {
    throw new UsageError(`${SCHEME} URL ${JSON.stringify(text)} names the host "${url.host}"; the store is a local file: write ${SCHEME}:///absolute/path/store.sqlite`);
  }
  for (const key of url.searchParams.keys()) {
    if (key !== 'path') throw new UsageError(`${SCHEME} URL ${JSON.stringify(text)} has an unknown parameter "${key}"; only "path" (the replica inside the store) is understood`);
  }
  let file: string;
  try {
    file = decodeURIComponent(url.pathname);
  } catch (cause) {
    throw new UsageError(`${SCHEME} URL ${JSON.stringify(text)} has a malformed %-escape in its path`, { cause });
  }
  if (file === '' || file === '/' || file.endsWith('/')) {
    throw new UsageError(`${SCHEME} URL ${JSON.stringify(text)} names no store file; write ${SCHEME}:///path/to/store.sqlite`);
  }
  return { file, path: replicaPath(url.searchParams.get('path') ?? '') };
}

/**
 * The address of a replica config entry: `url`, or `store` (the SQLite file; `~` and relative
 * paths are expanded from the working directory) with an optional `path` inside it.
 */
export function addressFromConfig(config: Readonly<Record<string, unknown>>): StoreAddress {
  const url = optionalString(config, 'url');
  const store = optionalString(config, 'store');
  const path = optionalString(config, 'path');
  if (url !== undefined) {
    if (store !== undefined || path !== undefined) throw new UsageError(`${SCHEME} replica has both "url" and "store"/"path"; set only one form`);
    try {
      return addressFromURL(url);
    } catch (error) {
      throw new InvalidSettingError('url', (error as Error).message, { cause: error });
    }
  }
  if (store === undefined || store === '') {
    throw new InvalidSettingError('store', `${SCHEME} replica needs "store" (the SQLite file, for example store: /var/backups/replicas.sqlite) or "url"`);
  }
  return { file: expandPath(store), path: replicaPath(path ?? '') };
}

/** Where a replica lives, for the host's check that no two databases write the same place. */
export function locate(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const address = addressFromConfig(config);
  return replicaLocation(`${SCHEME}:${address.file}`, address.path);
}

/** A replica path: `/`-separated names; no `.`/`..` segments, which could reach another replica. */
function replicaPath(text: string): string {
  const segments = text.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new InvalidSettingError('path', `${SCHEME} replica path ${JSON.stringify(text)} may not contain "." or ".." segments`);
  }
  return segments.join('/');
}

function expandPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new InvalidSettingError(key, `${SCHEME} replica "${key}" must be a string, got ${typeof value}`);
  return value;
}
