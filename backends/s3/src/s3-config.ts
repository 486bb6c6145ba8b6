import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { UsageError } from '@litestream-ts/core';
import { parseBoolean, parseS3Url, type ParsedS3Url } from './s3-url.ts';
import type { S3ReplicaClientOptions } from './s3-settings.ts';

type Writable<T> = { -readonly [K in keyof T]: T[K] };
type Config = Readonly<Record<string, unknown>>;

/** Config keys and the option each sets, as Litestream v0.5 names them. */
export const S3_CONFIG_KEYS = {
  bucket: 'bucket',
  path: 'path',
  region: 'region',
  endpoint: 'endpoint',
  'access-key-id': 'accessKeyId',
  'secret-access-key': 'secretAccessKey',
  'force-path-style': 'forcePathStyle',
  'sign-payload': 'signPayload',
  'require-content-md5': 'requireContentMd5',
  'skip-verify': 'skipVerify',
  'part-size': 'partSize',
  concurrency: 'concurrency',
  'storage-class': 'storageClass',
  'sse-customer-algorithm': 'sseCustomerAlgorithm',
  'sse-customer-key': 'sseCustomerKey',
  'sse-customer-key-path': 'sseCustomerKey',
  'sse-kms-key-id': 'sseKmsKeyId',
} as const satisfies Record<string, keyof S3ReplicaClientOptions>;

type ConfigKey = keyof typeof S3_CONFIG_KEYS;

// Settings a top-level (global) entry may give every replica; where the data lives is per replica.
const GLOBAL_KEYS: readonly ConfigKey[] = [
  'access-key-id', 'secret-access-key', 'region', 'endpoint', 'force-path-style', 'sign-payload',
  'require-content-md5', 'skip-verify', 'storage-class', 'part-size', 'concurrency',
  'sse-customer-algorithm', 'sse-customer-key', 'sse-customer-key-path', 'sse-kms-key-id',
];

const BOOLEAN_KEYS = new Set<ConfigKey>(['force-path-style', 'sign-payload', 'require-content-md5', 'skip-verify']);

/**
 * Options from a replica config entry (`type: s3` with `bucket`/`path`/…, or `url` plus
 * settings). Entry settings win over the URL's; globals fill only what the entry leaves unset.
 * `url` together with `bucket` or `path` is refused, as Litestream does.
 */
export function s3OptionsFromConfig(config: Config, globals: Config = {}, parseUrl: (url: string) => ParsedS3Url = parseS3Url): { options: S3ReplicaClientOptions; ignored: readonly string[] } {
  const url = stringValue(config, 'url');
  if (url !== undefined && stringValue(config, 'bucket') !== undefined) throw new UsageError('s3 replica has both "url" and "bucket"; set the bucket in one place');
  if (url !== undefined && stringValue(config, 'path') !== undefined) throw new UsageError('s3 replica has both "url" and "path"; set the path in one place');
  const fromUrl = url === undefined ? undefined : parseUrl(url);
  const options: Writable<S3ReplicaClientOptions> = { ...fromUrl?.options, bucket: fromUrl?.options.bucket ?? '' };

  const merged: Record<string, unknown> = {};
  for (const key of GLOBAL_KEYS) if (!isBlank(globals[key])) merged[key] = globals[key];
  for (const key of Object.keys(S3_CONFIG_KEYS)) if (!isBlank(config[key])) merged[key] = config[key];
  if (!isBlank(config['sse-customer-key']) || !isBlank(config['sse-customer-key-path'])) {
    // A replica's own key, in either form, replaces a global one in either form.
    for (const key of ['sse-customer-key', 'sse-customer-key-path']) if (isBlank(config[key])) delete merged[key];
  }
  if (!isBlank(merged['sse-customer-key']) && !isBlank(merged['sse-customer-key-path'])) {
    throw new UsageError('s3 replica has both "sse-customer-key" and "sse-customer-key-path"; set only one');
  }

  for (const [key, value] of Object.entries(merged) as [ConfigKey, unknown][]) {
    const option = S3_CONFIG_KEYS[key];
    if (BOOLEAN_KEYS.has(key)) (options as Record<string, unknown>)[option] = parseBoolean(key, value);
    else if (key === 'part-size' || key === 'concurrency') (options as Record<string, unknown>)[option] = value as number | string;
    else if (key === 'sse-customer-key-path') options.sseCustomerKey = readKeyFile(textValue(key, value));
    else (options as Record<string, unknown>)[option] = textValue(key, value);
  }
  return { options, ignored: fromUrl?.ignored ?? [] };
}

function readKeyFile(path: string): string {
  const expanded = path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
  try {
    return readFileSync(expanded, 'utf8').trim();
  } catch (cause) {
    throw new UsageError(`cannot read sse-customer-key-path ${JSON.stringify(path)}: ${(cause as Error).message}`);
  }
}

function stringValue(config: Config, key: string): string | undefined {
  const value = config[key];
  return isBlank(value) ? undefined : textValue(key, value);
}

function textValue(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`s3 "${key}" must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
