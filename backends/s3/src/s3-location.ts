import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { endpointHost, isAmazonEndpoint } from './providers/provider-table.ts';
import { s3OptionsFromConfig } from './s3-config.ts';
import { resolveS3Settings } from './s3-settings.ts';
import { parseS3Url } from './s3-url.ts';

/** Checks an s3:// URL as far as it goes without a connection: its form, query settings and endpoint. */
export function checkS3Url(url: string): void {
  resolveS3Settings(parseS3Url(url).options);
}

/** Checks a config entry as `fromConfig` reads it, without a connection or the SDK. */
export function checkS3Config(config: Readonly<Record<string, unknown>>): void {
  resolveS3Settings(s3OptionsFromConfig(config).options);
}

/**
 * Where an S3 replica lives: the store is Amazon S3 (one bucket namespace, whatever regional
 * endpoint is used) or the endpoint's host, plus the bucket; the path is the key prefix.
 */
export function locateS3Replica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const settings = resolveS3Settings(s3OptionsFromConfig(config).options);
  const service = isAmazonEndpoint(settings.endpoint) ? 'aws' : endpointHost(settings.endpoint!);
  return replicaLocation(`s3 ${service} ${settings.bucket}`, settings.path);
}
