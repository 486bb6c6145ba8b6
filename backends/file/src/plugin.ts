/**
 * `@litestream-ts/backend-file/plugin`: the file backend as a host needs it before any replica
 * is built — its config type, URL scheme and config keys — plus a lazy registry entry that
 * imports the backend itself on first use. Importing this module loads nothing else.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyFileBackend from '@litestream-ts/backend-file/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyFileBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { directoryFromURLText, locateFileReplica, replicaDirectory } from './file-location.ts';

/** The static facts of the file backend (`fileBackend` is these plus its factories). */
export const fileBackendInfo: BackendInfo = {
  type: 'file',
  schemes: ['file'],
  configKeys: ['path'],
  description: 'a local or mounted directory (file:///path/to/replica or a plain path)',
  checkURL(url: string): void {
    directoryFromURLText(url);
  },
  checkConfig(config: Readonly<Record<string, unknown>>): void {
    replicaDirectory(config);
  },
  locate: locateFileReplica,
};

/** The file backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-file`'s plugin. */
export const lazyFileBackend: LazyBackendPlugin = {
  ...fileBackendInfo,
  module: '@litestream-ts/backend-file',
  load: async () => (await import('./file-backend.ts')).fileBackend,
};

export default lazyFileBackend;
