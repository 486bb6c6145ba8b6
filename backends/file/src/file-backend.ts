import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { fileBackendInfo } from './plugin.ts';
import { FileReplicaClient } from './file-replica-client.ts';

const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * The `file` backend plugin: `file:///abs/dir` URLs, plain paths (the registry turns them
 * into file URLs), and config entries with `path` (or `url`).
 */
export const fileBackend: BackendPlugin = {
  ...fileBackendInfo,
  fromURL(url: string, context?: BackendContext): FileReplicaClient {
    return new FileReplicaClient(directoryFromURL(parseFileURL(url)), { ...context?.timeouts });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): FileReplicaClient {
    const options = { ...context?.timeouts };
    const path = optionalString(config, 'path');
    const url = optionalString(config, 'url');
    if (path !== undefined && url !== undefined) {
      throw new UsageError('file replica has both "path" and "url"; set only one of them');
    }
    // The registry routes a scheme-less `url` here as a local path, so accept it as one.
    if (url !== undefined) return new FileReplicaClient(HAS_SCHEME.test(url) ? directoryFromURL(parseFileURL(url)) : expandPath(url), options);
    if (path !== undefined) return new FileReplicaClient(expandPath(path), options);
    throw new UsageError('file replica needs a directory: set "path" (for example path: /var/backups/app) or "url" (file:///var/backups/app)');
  },
};

/** Adds the file backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerFileBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(fileBackend);
}

/** The directory a `file:` URL designates; only local absolute URLs are accepted. */
export function directoryFromURL(url: URL): string {
  if (url.protocol !== 'file:') throw new UsageError(`the file backend cannot open ${url.protocol}// URLs`);
  if (url.host !== '' && url.host !== 'localhost') {
    throw new UsageError(
      `file URL "${url.href}" names the host "${url.host}"; use three slashes for an absolute path (file:///dir) or a plain relative path without file://`,
    );
  }
  const path = fileURLToPath(url);
  if (path === '') throw new UsageError(`file URL "${url.href}" has no path; set it to a directory such as file:///var/backups/app`);
  return path;
}

/** Resolves a configured path: `~` is the home directory, relative paths are taken from the working directory. */
export function expandPath(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(path);
}

function parseFileURL(text: string): URL {
  try {
    return new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid file replica URL ${JSON.stringify(text)}; expected file:///path/to/dir`, { cause });
  }
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new UsageError(`file replica "${key}" must be a string, got ${typeof value}`);
  return value;
}
