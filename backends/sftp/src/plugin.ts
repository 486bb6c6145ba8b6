/**
 * `@litestream-ts/backend-sftp/plugin`: the sftp backend as a host needs it before
 * any replica is built — its config type, URL scheme, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself (and ssh2) on first use. Importing
 * this module loads no SDK.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazySftpBackend from '@litestream-ts/backend-sftp/plugin';
 * const registry = new BackendRegistry().registerLazy(lazySftpBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { SFTP_CONFIG_KEYS, parseSftpURL } from './sftp-config.ts';
import { checkSftpConfig, locateSftpReplica } from './sftp-location.ts';

/** The static facts of the sftp backend (`sftpBackend` is these plus its factories). */
export const sftpBackendInfo: BackendInfo = {
  type: 'sftp',
  schemes: ['sftp'],
  configKeys: SFTP_CONFIG_KEYS,
  description: 'a directory on an SSH server over SFTP (sftp://user@host[:port]/path)',
  checkURL(url: string): void {
    parseSftpURL(url);
  },
  checkConfig: checkSftpConfig,
  locate: locateSftpReplica,
};

/** The sftp backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-sftp`'s plugin. */
export const lazySftpBackend: LazyBackendPlugin = {
  ...sftpBackendInfo,
  module: '@litestream-ts/backend-sftp',
  load: async () => (await import('./sftp-backend.ts')).sftpBackend,
};

export default lazySftpBackend;
