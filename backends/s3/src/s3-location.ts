import { replicaLocation, type ReplicaLocation } from '@litestream-ts/core';
import { endpointHost, isAmazonEndpoint } from './providers/provider-table.ts';
import { applyOssDefaults, ossOptionsFromConfig, parseOssUrl } from './oss-options.ts';
import { s3OptionsFromConfig } from './s3-config.ts';
import { resolveS3Settings, type S3ReplicaClientOptions } from './s3-settings.ts';
import { parseS3Url } from './s3-url.ts';

/** Whether a URL is Alibaba Cloud OSS's `oss://` form (the s3 backend serves both). */
export function isOssUrl(url: string): boolean {
  return /^oss:\/\//i.test(url.trim());
}

/** Whether a config entry names OSS: `type: oss`, or an `oss://` URL (whatever type a host filled in). */
export function isOssConfig(config: Readonly<Record<string, unknown>>): boolean {
  return config.type === 'oss' || (typeof config.url === 'string' && isOssUrl(config.url));
}

/** Options from an s3:// or oss:// URL (OSS defaults applied to the latter). */
export function optionsFromUrl(url: string): { options: S3ReplicaClientOptions; ignored: readonly string[] } {
  if (!isOssUrl(url)) return parseS3Url(url);
  const { options, ignored } = parseOssUrl(url);
  return { options: applyOssDefaults(options), ignored };
}

/** Options from a config entry of type s3 or oss. */
export function optionsFromConfig(config: Readonly<Record<string, unknown>>, globals: Readonly<Record<string, unknown>> = {}): { options: S3ReplicaClientOptions; ignored: readonly string[] } {
  return isOssConfig(config) ? ossOptionsFromConfig(config, globals) : s3OptionsFromConfig(config, globals);
}

/** Checks an s3:// or oss:// URL as far as it goes without a connection: its form, query settings and endpoint. */
export function checkS3Url(url: string): void {
  resolveS3Settings(optionsFromUrl(url).options);
}

/** Checks a config entry as `fromConfig` reads it, without a connection or the SDK. */
export function checkS3Config(config: Readonly<Record<string, unknown>>): void {
  resolveS3Settings(optionsFromConfig(config).options);
}

/**
 * Where an S3 replica lives: the store is Amazon S3 (one bucket namespace, whatever regional
 * endpoint is used) or the endpoint's host, plus the bucket; the path is the key prefix.
 */
export function locateS3Replica(config: Readonly<Record<string, unknown>>): ReplicaLocation {
  const settings = resolveS3Settings(optionsFromConfig(config).options);
  const service = isAmazonEndpoint(settings.endpoint) ? 'aws' : endpointHost(settings.endpoint!);
  return replicaLocation(`s3 ${service} ${settings.bucket}`, settings.path);
}
