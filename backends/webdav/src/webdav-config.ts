import { UsageError, normalizeReplicaPath, redactURL } from '@litestream-ts/core';

/** Settings of a WebDAV replica, from a URL, a config entry or code. */
export interface WebdavSettings {
  /**
   * The server's base URL, `http(s)://host[:port][/base]`, without credentials. The replica
   * path is below its path (Litestream's `webdav-url`).
   */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Replica directory below the base URL; '' for the base itself. */
  readonly path: string;
}

/** Config keys of Litestream's webdav replica (besides the common ones). */
export const WEBDAV_CONFIG_KEYS: readonly string[] = ['webdav-url', 'webdav-username', 'webdav-password'];

/**
 * Parses `webdav://[USER[:PASSWORD]@]HOST[:PORT]/PATH` (HTTP) or `webdavs://…` (HTTPS), as
 * Litestream v0.5 does: the host becomes the base URL and the URL's path the replica path.
 * User and password are percent-decoded. Unknown query parameters are returned in `ignored`.
 */
export function parseWebdavURL(text: string): { settings: WebdavSettings; ignored: string[] } {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid webdav replica URL "${redactURL(text)}"; expected webdav://[user[:password]@]host[:port]/path or webdavs://…`, { cause });
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme !== 'webdav' && scheme !== 'webdavs') throw new UsageError(`the webdav backend cannot open ${url.protocol}// URLs`);
  if (url.hostname === '') throw new UsageError(`webdav replica URL "${redactURL(text)}" has no host; expected ${scheme}://host/path`);
  const username = url.username === '' ? undefined : decode(url.username, 'user');
  const password = url.password === '' ? undefined : decode(url.password, 'password');
  return {
    settings: {
      url: `${scheme === 'webdavs' ? 'https' : 'http'}://${url.host}`,
      path: normalizeReplicaPath(decode(url.pathname, 'path')),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
    },
    ignored: [...new Set(url.searchParams.keys())],
  };
}

/**
 * Reads a config entry as Litestream does: either `url` (a `webdav(s)://` URL) or `webdav-url`
 * (an `http(s)://` base URL, which may carry a base path) with `path`; `webdav-username` and
 * `webdav-password` override credentials in the URL. `url` with `path` or with `webdav-url` is
 * refused, as in Litestream.
 */
export function webdavSettingsFromConfig(config: Readonly<Record<string, unknown>>): { settings: WebdavSettings; ignored: string[] } {
  const replicaURL = optionalString(config, 'url');
  const baseURL = optionalString(config, 'webdav-url');
  const configPath = optionalString(config, 'path');
  if (replicaURL !== undefined && configPath !== undefined) throw new UsageError('webdav replica: set either "url" or "path" (with "webdav-url"), not both');
  if (replicaURL !== undefined && baseURL !== undefined) throw new UsageError('webdav replica: set either "url" or "webdav-url", not both');
  let base: { url: string; username?: string; password?: string; path: string };
  let ignored: string[] = [];
  if (replicaURL !== undefined) {
    ({ settings: base, ignored } = parseWebdavURL(replicaURL));
  } else if (baseURL !== undefined) {
    base = { ...parseBaseURL(baseURL), path: normalizeReplicaPath(configPath ?? '') };
  } else {
    throw new UsageError('webdav replica needs "webdav-url" (for example https://dav.example.com/backups) or "url" (webdavs://host/path)');
  }
  const username = optionalString(config, 'webdav-username') ?? base.username;
  const password = optionalString(config, 'webdav-password') ?? base.password;
  return {
    settings: {
      url: base.url,
      path: base.path,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password }),
    },
    ignored,
  };
}

/** An `http(s)://` base URL: its origin and path (no trailing slash), and any credentials it holds. */
export function parseBaseURL(text: string): { url: string; username?: string; password?: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid webdav-url "${redactURL(text)}"; expected http(s)://host[:port][/path]`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`webdav-url "${redactURL(text)}" must use http:// or https://`);
  if (url.search !== '' || url.hash !== '') throw new UsageError(`webdav-url "${redactURL(text)}" must not have a query or fragment`);
  const username = url.username === '' ? undefined : decode(url.username, 'user');
  const password = url.password === '' ? undefined : decode(url.password, 'password');
  const path = url.pathname.replace(/\/+$/, '');
  return {
    url: `${url.protocol}//${url.host}${path}`,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new UsageError(`webdav replica URL has a malformed percent-escape in its ${what}`, { cause });
  }
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new UsageError(`webdav replica "${key}" must be a string, got ${typeof value}`);
  return value;
}
