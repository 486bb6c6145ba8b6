/**
 * `@litestream-ts/backend-nats/plugin`: the nats backend as a host needs it before
 * any replica is built — its config type, URL scheme, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself (and the NATS client) on first use. Importing
 * this module loads no SDK.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyNatsBackend from '@litestream-ts/backend-nats/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyNatsBackend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { NATS_CONFIG_KEYS } from './nats-config.ts';
import { checkNatsConfig, locateNatsReplica } from './nats-location.ts';
import { parseNatsUrl } from './nats-url.ts';

/** The static facts of the nats backend (`natsBackend` is these plus its factories). */
export const natsBackendInfo: BackendInfo = {
  type: 'nats',
  schemes: ['nats'],
  configKeys: Object.keys(NATS_CONFIG_KEYS),
  description: 'NATS JetStream object store (nats://[user:pass@]host:port/bucket)',
  checkURL(url: string): void {
    parseNatsUrl(url);
  },
  checkConfig: checkNatsConfig,
  locate: locateNatsReplica,
};

/** The nats backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-nats`'s plugin. */
export const lazyNatsBackend: LazyBackendPlugin = {
  ...natsBackendInfo,
  module: '@litestream-ts/backend-nats',
  load: async () => (await import('./nats-backend.ts')).natsBackend,
};

export default lazyNatsBackend;
