import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { webdavSettingsFromConfig } from './webdav-config.ts';

/** Checks a config entry as `fromConfig` reads it (URLs, keys), without connecting. */
export function checkWebdavConfig(config: Readonly<Record<string, unknown>>): void {
  webdavSettingsFromConfig(config);
}

/** Where a WebDAV replica lives: the server (scheme, host, port) and the path below it. */
export function locateWebdavReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const { settings } = webdavSettingsFromConfig(config);
  const base = new URL(settings.url);
  const basePath = decodeURIComponent(base.pathname).replace(/^\/+|\/+$/g, '');
  return replicaLocation(`webdav ${base.protocol}//${base.host.toLowerCase()}`, [basePath, settings.path].filter(Boolean).join('/'));
}
