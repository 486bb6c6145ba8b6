/**
 * `@litestream-ts/backend-abs/plugin`: the abs backend as a host needs it before
 * any replica is built — its config type, URL scheme, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself (and the Azure SDK) on first use. Importing
 * this module loads no SDK.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyAbsBackend from '@litestream-ts/backend-abs/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyAbsBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { ABS_CONFIG_KEYS } from './abs-config.ts';
import { checkAbsConfig, locateAbsReplica } from './abs-location.ts';
import { parseAbsUrl } from './abs-url.ts';

/** The static facts of the abs backend (`absBackend` is these plus its factories). */
export const absBackendInfo: BackendInfo = {
  type: 'abs',
  schemes: ['abs'],
  configKeys: Object.keys(ABS_CONFIG_KEYS),
  description: 'Azure Blob Storage (abs://[account@]container/path)',
  checkURL(url: string): void {
    parseAbsUrl(url);
  },
  checkConfig: checkAbsConfig,
  locate: locateAbsReplica,
};

/** The abs backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-abs`'s plugin. */
export const lazyAbsBackend: LazyBackendPlugin = {
  ...absBackendInfo,
  module: '@litestream-ts/backend-abs',
  load: async () => (await import('./abs-backend.ts')).absBackend,
};

export default lazyAbsBackend;
