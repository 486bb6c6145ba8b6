/**
 * `@litestream-ts/backend-webdav/plugin`: the webdav backend as a host needs it before any
 * replica is built — its config type, URL schemes, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself on first use. Importing this module loads
 * no HTTP or XML code.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyWebdavBackend from '@litestream-ts/backend-webdav/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyWebdavBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { WEBDAV_CONFIG_KEYS, parseWebdavURL } from './webdav-config.ts';
import { checkWebdavConfig, locateWebdavReplica } from './webdav-location.ts';

/** The static facts of the webdav backend (`webdavBackend` is these plus its factories). */
export const webdavBackendInfo: BackendInfo = {
  type: 'webdav',
  schemes: ['webdav', 'webdavs'],
  configKeys: WEBDAV_CONFIG_KEYS,
  description: 'a collection on a WebDAV server (webdav://host/path over HTTP, webdavs:// over HTTPS)',
  checkURL(url: string): void {
    parseWebdavURL(url);
  },
  checkConfig: checkWebdavConfig,
  locate: locateWebdavReplica,
};

/** The webdav backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-webdav`'s plugin. */
export const lazyWebdavBackend: LazyBackendPlugin = {
  ...webdavBackendInfo,
  module: '@litestream-ts/backend-webdav',
  load: async () => (await import('./webdav-backend.ts')).webdavBackend,
};

export default lazyWebdavBackend;
