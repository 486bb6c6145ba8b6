/**
 * `@litestream-ts/backend-gcs/plugin`: the gs backend as a host needs it before
 * any replica is built — its config type, URL scheme, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself (and the Google Cloud Storage SDK) on first use. Importing
 * this module loads no SDK.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyGcsBackend from '@litestream-ts/backend-gcs/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyGcsBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { GCS_CONFIG_KEYS } from './gcs-config.ts';
import { checkGcsConfig, checkGcsUrl, locateGcsReplica } from './gcs-location.ts';

/** The static facts of the gs backend (`gcsBackend` is these plus its factories). */
export const gcsBackendInfo: BackendInfo = {
  type: 'gs',
  schemes: ['gs'],
  configKeys: GCS_CONFIG_KEYS,
  description: 'Google Cloud Storage (gs://bucket/path)',
  checkURL: checkGcsUrl,
  checkConfig: checkGcsConfig,
  locate: locateGcsReplica,
};

/** The gs backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-gcs`'s plugin. */
export const lazyGcsBackend: LazyBackendPlugin = {
  ...gcsBackendInfo,
  module: '@litestream-ts/backend-gcs',
  load: async () => (await import('./gcs-backend.ts')).gcsBackend,
};

export default lazyGcsBackend;
