import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { gcsBackendInfo } from './plugin.ts';
import { gcsOptionsFromConfig } from './gcs-config.ts';
import { GcsReplicaClient } from './gcs-replica-client.ts';
import { parseGcsUrl } from './gcs-url.ts';

/** The `gs` backend plugin: `gs://bucket/path` URLs and config entries with `type: gs`. */
export const gcsBackend: BackendPlugin = {
  ...gcsBackendInfo,
  fromURL(url: string, context?: BackendContext): GcsReplicaClient {
    const { options, ignored } = parseGcsUrl(url);
    warnIgnored(ignored, context);
    const globalEndpoint = context?.globals?.endpoint;
    return new GcsReplicaClient({ ...(typeof globalEndpoint === 'string' && globalEndpoint !== '' ? { endpoint: globalEndpoint } : {}), ...options, ...context?.timeouts });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): GcsReplicaClient {
    const { options, ignored } = gcsOptionsFromConfig(config, context?.globals ?? {});
    warnIgnored(ignored, context);
    return new GcsReplicaClient({ ...options, ...context?.timeouts });
  },
};

/** Adds the gs backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerGcsBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(gcsBackend);
}

function warnIgnored(ignored: readonly string[], context: BackendContext | undefined): void {
  if (ignored.length > 0) context?.warn?.(`gs replica URL: ignoring unknown query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
}
