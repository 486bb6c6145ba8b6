import { defaultRegistry, type BackendContext, type BackendPlugin, type BackendRegistry } from '@litestream-ts/core';
import { absBackendInfo } from './plugin.ts';
import { absOptionsFromConfig } from './abs-config.ts';
import { AbsReplicaClient } from './abs-replica-client.ts';

/**
 * The `abs` backend plugin: `abs://[ACCOUNT@]CONTAINER/PATH` and
 * `abs://ACCOUNT.blob.core.windows.net/CONTAINER/PATH` URLs, and config entries with
 * `type: abs` and Litestream's keys.
 */
export const absBackend: BackendPlugin = {
  ...absBackendInfo,
  fromURL(url: string, context?: BackendContext): AbsReplicaClient {
    // A URL alone still takes the account name, key and SAS token a config gives globally.
    const { options, ignored } = absOptionsFromConfig({ url }, context?.globals ?? {});
    warnIgnored(ignored, context);
    return new AbsReplicaClient({ ...options, ...context?.timeouts, warn: context?.warn });
  },
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): AbsReplicaClient {
    const { options, ignored } = absOptionsFromConfig(config, context?.globals ?? {});
    warnIgnored(ignored, context);
    return new AbsReplicaClient({ ...options, ...context?.timeouts, warn: context?.warn });
  },
};

/** Adds the abs backend to a registry (the default one unless given). Importing this package registers nothing. */
export function registerAbsBackend(registry: BackendRegistry = defaultRegistry): BackendRegistry {
  return registry.register(absBackend);
}

function warnIgnored(ignored: readonly string[], context: BackendContext | undefined): void {
  if (ignored.length > 0) context?.warn?.(`abs replica URL: ignoring query parameter(s) ${ignored.map((k) => JSON.stringify(k)).join(', ')}`);
}
