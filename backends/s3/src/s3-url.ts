import { UsageError, redactURL } from '@litestream-ts/core';
import { splitBucketHost } from './providers/provider-table.ts';
import { normalizePath } from './s3-key-layout.ts';
import type { S3ReplicaClientOptions } from './s3-settings.ts';

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** What a replica URL says; `ignored` lists query parameters this backend does not know. */
export interface ParsedS3Url {
  readonly options: S3ReplicaClientOptions;
  readonly ignored: readonly string[];
}

// Query parameters in Litestream's two spellings, kebab-case and camelCase.
const QUERY_KEYS: Readonly<Record<string, keyof S3ReplicaClientOptions | 'ignore'>> = {
  endpoint: 'endpoint',
  region: 'region',
  'force-path-style': 'forcePathStyle',
  forcePathStyle: 'forcePathStyle',
  'sign-payload': 'signPayload',
  signPayload: 'signPayload',
  'skip-verify': 'skipVerify',
  skipVerify: 'skipVerify',
  'require-content-md5': 'requireContentMd5',
  requireContentMD5: 'requireContentMd5',
  'part-size': 'partSize',
  partSize: 'partSize',
  concurrency: 'concurrency',
  'storage-class': 'storageClass',
  storageClass: 'storageClass',
  'sse-customer-algorithm': 'sseCustomerAlgorithm',
  sseCustomerAlgorithm: 'sseCustomerAlgorithm',
  'sse-customer-key': 'sseCustomerKey',
  sseCustomerKey: 'sseCustomerKey',
  'sse-kms-key-id': 'sseKmsKeyId',
  sseKmsKeyId: 'sseKmsKeyId',
  // Litestream accepts the SSE-C key's MD5 too; it is always computed from the key here.
  'sse-customer-key-md5': 'ignore',
  sseCustomerKeyMD5: 'ignore',
};

const BOOLEAN_OPTIONS = new Set<keyof S3ReplicaClientOptions>(['forcePathStyle', 'signPayload', 'skipVerify', 'requireContentMd5']);

/**
 * Parses an S3 replica URL: `s3://bucket/path`, `s3://bucket.<provider host>/path` (the
 * endpoint and region come from the host, e.g. `s3://b.s3.us-west-000.backblazeb2.com/db`),
 * `s3://bucket.host:port/path` (self-hosted, HTTP), or an access point
 * `s3://arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/path`; plus query settings such as
 * `?endpoint=…&region=…&force-path-style=true`.
 */
export function parseS3Url(input: string | URL): ParsedS3Url {
  const text = typeof input === 'string' ? input.trim() : input.href;
  if (!/^s3:\/\//i.test(text)) throw new UsageError(`not an s3:// URL: ${JSON.stringify(redactURL(text))}`);
  const queryAt = text.indexOf('?');
  const withoutQuery = queryAt === -1 ? text : text.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : text.slice(queryAt + 1));
  const options: Writable<S3ReplicaClientOptions> = { bucket: '' };

  const rest = withoutQuery.slice('s3://'.length);
  if (/^arn:/i.test(rest)) {
    // An ARN holds colons and a slash, which no URL parser takes as a host.
    const match = /^(arn:[^/]*:accesspoint[/:][^/]+)(?:\/(.*))?$/i.exec(rest);
    if (!match) throw new UsageError(`invalid s3 access point URL ${JSON.stringify(text)}: expected s3://arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME/PATH`);
    options.bucket = match[1]!;
    options.path = decodePath(match[2] ?? '', text);
  } else {
    const slash = rest.indexOf('/');
    const host = slash === -1 ? rest : rest.slice(0, slash);
    if (host.includes('@')) throw new UsageError('s3 replica URLs take no credentials: set access-key-id and secret-access-key instead');
    if (host === '') throw new UsageError(`s3 replica URL ${JSON.stringify(text)} has no bucket: use s3://BUCKET/PATH`);
    options.path = decodePath(slash === -1 ? '' : rest.slice(slash + 1), text);
    const named = splitBucketHost(host);
    if (named) {
      options.bucket = named.bucket;
      if (named.region !== undefined) options.region = named.region;
      if (named.endpoint !== undefined) options.endpoint = `${named.preset.id === 'minio' ? 'http' : 'https'}://${named.endpoint}`;
    } else {
      options.bucket = host;
    }
  }

  const ignored: string[] = [];
  for (const [key, value] of query) {
    const option = QUERY_KEYS[key];
    if (option === undefined) ignored.push(key);
    if (option === undefined || option === 'ignore' || value === '') continue;
    (options as Record<string, unknown>)[option] = BOOLEAN_OPTIONS.has(option) ? parseBoolean(key, value) : value;
  }
  return { options, ignored };
}

/** Litestream's reading of a boolean query or config value. */
export function parseBoolean(key: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  // Only text and numbers can spell a boolean (String() of an object may even throw).
  const word = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'number' ? String(value) : '';
  if (['true', '1', 't', 'yes', 'y', 'on'].includes(word)) return true;
  if (['false', '0', 'f', 'no', 'n', 'off'].includes(word)) return false;
  throw new UsageError(`s3 ${key} must be true or false, got ${JSON.stringify(value)}`);
}

function decodePath(raw: string, url: string): string {
  try {
    return normalizePath(raw.split('/').map(decodeURIComponent).join('/'));
  } catch (cause) {
    throw new UsageError(`invalid percent-escape in s3 URL path ${JSON.stringify(url)}`, { cause });
  }
}
