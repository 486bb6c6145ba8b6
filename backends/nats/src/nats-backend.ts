import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { natsBackendInfo } from './plugin.ts';
import { natsOptionsFromConfig } from './nats-config.ts';
import { NatsReplicaClient } from './nats-replica-client.ts';

/**
 * The `nats` backend plugin: `nats://[user:pass@]host[:port]/bucket` URLs and config entries
 * with `type: nats` and Litestream's NATS keys.
 */
export const natsBackend: BackendPlugin = {
  ...natsBackendInfo,
  fromURL(url: string, context?: BackendContext): NatsReplicaClient {
    // A URL alone still takes credentials and connection settings from the config's globals.
    const { options, ignored } = natsOptionsFromConfig({ url }, context?.globals ?? {});
    warnIgnored(ignored, context);
    return new NatsReplicaClient({ ...options, ...context?.timeouts, warn: context?.warn });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): NatsReplicaClient {
    const { options, ignored } = natsOptionsFromConfig(config, context?.globals ?? {});
    warnIgnored(ignored, context);
    return new NatsReplicaClient({ ...options, ...context?.timeouts, warn: context?.warn });
  },
};

/** Adds the nats backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerNatsBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(natsBackend);
}

function warnIgnored(ignored: readonly string[], context: BackendContext | undefined): void {
  if (ignored.length > 0) context?.warn?.(`nats replica URL: ignoring query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
}
