import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { absOptionsFromConfig } from './abs-config.ts';
import { resolveAbsSettings } from './abs-settings.ts';

/** Checks a config entry as `fromConfig` reads it (container, path, endpoint), without the SDK. */
export function checkAbsConfig(config: Readonly<Record<string, unknown>>): void {
  resolveAbsSettings(absOptionsFromConfig(config).options);
}

/** Where an Azure Blob replica lives: the blob service endpoint and container, then the path. */
export function locateAbsReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const settings = resolveAbsSettings(absOptionsFromConfig(config).options);
  return replicaLocation(`abs ${settings.endpoint.toLowerCase()} ${settings.container}`, settings.path);
}
