import { homedir } from 'node:os';
import { isAbsolute, join, parse, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidSettingError, UsageError, redactURL, replicaLocation, schemePrefix, type ReplicaLocation } from '@litestream-ts/core';

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The replica directory of a config entry: `path`, or `url` (a `file:` URL, or a plain path
 * the registry routed here). Checked as the client needs it, without touching the disk.
 */
export function replicaDirectory(config: Readonly<Record<string, unknown>>): string {
  const path = optionalString(config, 'path');
  const url = optionalString(config, 'url');
  if (path !== undefined && url !== undefined) throw new UsageError('file replica has both "path" and "url"; set only one of them');
  if (url !== undefined) return naming('url', () => (HAS_SCHEME.test(url) ? directoryFromURLText(url) : directoryFromPath(url)));
  if (path !== undefined) return naming('path', () => directoryFromPath(path));
  throw new UsageError('file replica needs a directory: set "path" (for example path: /var/backups/app) or "url" (file:///var/backups/app)');
}

/** Where a file replica lives, for overlap checks: its absolute directory. */
export function locateFileReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  return replicaLocation('file', replicaDirectory(config));
}

/** The directory a `file:` URL string designates (see `directoryFromURL`). */
export function directoryFromURLText(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid file replica URL ${JSON.stringify(redactURL(text))}; expected file:///path/to/dir`, { cause });
  }
  // `file://` and `file://localhost` parse as the root directory; nobody means that.
  if (/^file:\/\/(localhost)?$/i.test(text.trim())) {
    throw new UsageError(`file URL ${JSON.stringify(text)} has no path; name the replica directory, as in file:///var/backups/app`);
  }
  return directoryFromURL(url);
}

/** The directory a `file:` URL designates; only local absolute URLs are accepted, and not the root. */
export function directoryFromURL(url: URL): string {
  if (url.protocol !== 'file:') throw new UsageError(`the file backend cannot open ${url.protocol}// URLs`);
  if (url.host !== '' && url.host !== 'localhost') {
    throw new UsageError(
      `file URL "${url.href}" names the host "${url.host}"; use three slashes for an absolute path (file:///dir) or a plain relative path without file://`,
    );
  }
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (cause) {
    // Node refuses file URLs whose path encodes a "/" (%2F), and a malformed escape throws URIError.
    throw new UsageError(`file URL "${url.href}" does not name a local directory: ${(cause as Error).message}`, { cause });
  }
  if (path === '') throw new UsageError(`file URL "${url.href}" has no path; set it to a directory such as file:///var/backups/app`);
  return notRoot(path, url.href);
}

/**
 * Resolves a configured path: `~` is the home directory, relative paths are taken from the
 * working directory. A path that starts like a URL (`s3:/bucket`) is refused: it is a
 * mistyped URL far more often than a directory named `s3:`.
 */
export function directoryFromPath(path: string): string {
  const scheme = schemePrefix(path);
  if (scheme !== undefined) {
    throw new UsageError(
      `${JSON.stringify(redactURL(path))} starts like a URL ("${scheme}:"), not a directory: write ${scheme}://… as the replica's "url", ` +
        `or ./${path} for a local directory whose name holds a colon`,
    );
  }
  return notRoot(expandPath(path), path);
}

/** `~` is the home directory; other relative paths are taken from the working directory. */
export function expandPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

/** Runs a check, marking its `UsageError` with the config key it is about. */
function naming(setting: string, check: () => string): string {
  try {
    return check();
  } catch (err) {
    if (err instanceof UsageError && !(err instanceof InvalidSettingError)) throw new InvalidSettingError(setting, err.message, { cause: err });
    throw err;
  }
}

function notRoot(directory: string, written: string): string {
  const absolute = resolve(directory);
  if (parse(absolute).root === absolute) {
    throw new UsageError(`file replica ${JSON.stringify(written)} is the root directory ${absolute}; name a directory of its own, as in file:///var/backups/app`);
  }
  return directory;
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new UsageError(`file replica "${key}" must be a string, got ${typeof value}`);
  return value;
}
