import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { gcsOptionsFromConfig } from './gcs-config.ts';
import { resolveGcsSettings } from './gcs-settings.ts';
import { parseGcsUrl } from './gcs-url.ts';

/** Checks a gs:// URL as far as it goes without a connection: bucket name, path and endpoint. */
export function checkGcsUrl(url: string): void {
  resolveGcsSettings(parseGcsUrl(url).options);
}

/** Checks a config entry as `fromConfig` reads it, without a connection or the SDK. */
export function checkGcsConfig(config: Readonly<Record<string, unknown>>): void {
  resolveGcsSettings(gcsOptionsFromConfig(config).options);
}

/** Where a GCS replica lives: Google (or the emulator endpoint) and the bucket, then the path. */
export function locateGcsReplica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const settings = resolveGcsSettings(gcsOptionsFromConfig(config).options);
  const service = settings.endpoint === undefined ? 'google' : new URL(settings.endpoint).host;
  return replicaLocation(`gs ${service} ${settings.bucket}`, settings.path);
}
