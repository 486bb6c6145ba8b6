import type { BackendContext, BackendPlugin } from '@litestream-ts/core';
import { addressFromConfig, addressFromURL } from './location.ts';
import { mySchemeBackendInfo } from './plugin.ts';
import { SqliteFileReplicaClient } from './sqlite-file-replica-client.ts';

/**
 * The loaded backend: builds a `SqliteFileReplicaClient` from a `myscheme://` URL or from a
 * config entry (`store`, optional `path`), with the timeouts the host resolved.
 */
export const mySchemeBackend: BackendPlugin = {
  ...mySchemeBackendInfo,
  fromURL(url: string, context?: BackendContext): SqliteFileReplicaClient {
    return new SqliteFileReplicaClient(addressFromURL(url), { ...context?.timeouts });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): SqliteFileReplicaClient {
    return new SqliteFileReplicaClient(addressFromConfig(config), { ...context?.timeouts });
  },
};
