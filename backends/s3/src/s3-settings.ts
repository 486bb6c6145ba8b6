import { UsageError, checkEndpointURL, type StorageTimeouts } from '@litestream-ts/core';
import type { AwsCredentialIdentityProvider, Environment } from './credentials.ts';
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, parseConcurrency, parsePartSize } from './part-size.ts';
import { detectProvider, isAmazonEndpoint } from './providers/provider-table.ts';
import type { ProviderPreset } from './providers/provider-preset.ts';
import { normalizePath } from './s3-key-layout.ts';
import { isLocalHost, serverSideEncryption, type ServerSideEncryption } from './server-side-encryption.ts';

/** A storage operation as the engine's metrics count them. */
export type S3Operation = 'GET' | 'PUT' | 'DELETE' | 'LIST';

/** Called after every request: which kind, how many bytes moved, whether it failed. */
export type OperationHook = (operation: S3Operation, bytes: number, error: boolean) => void;

/**
 * Everything an `S3ReplicaClient` can be told. Unset settings take provider presets, then
 * defaults. `connectTimeout` is the SDK's connection timeout; `requestTimeout` ends a call that
 * made no progress for that long (and is each attempt's socket inactivity timeout).
 */
export interface S3ReplicaClientOptions extends StorageTimeouts {
  /** The config type the client answers to, for messages and metrics: `s3` (default), or `oss` for Alibaba Cloud OSS. */
  readonly type?: 's3' | 'oss' | undefined;
  /** Bucket name, or an access point ARN (`arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`). */
  readonly bucket: string;
  /** Prefix inside the bucket; empty for the bucket root. */
  readonly path?: string | undefined;
  readonly region?: string | undefined;
  /** S3-compatible endpoint: `host[:port]` (HTTPS; HTTP for localhost and private addresses) or a full URL. */
  readonly endpoint?: string | undefined;
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  readonly sessionToken?: string | undefined;
  readonly forcePathStyle?: boolean | undefined;
  /** Sign request bodies (SigV4 payload hash); default true. */
  readonly signPayload?: boolean | undefined;
  /** Send Content-MD5 with DeleteObjects; default true (false for Tigris). */
  readonly requireContentMd5?: boolean | undefined;
  /** Accept any TLS certificate (self-signed test servers only). */
  readonly skipVerify?: boolean | undefined;
  /** Multipart part size: bytes or a size such as `10MB`/`5MiB`; 5 MiB to 5 GiB. */
  readonly partSize?: number | string | undefined;
  /** Parts uploaded at once; memory use is about part size × concurrency. */
  readonly concurrency?: number | string | undefined;
  readonly storageClass?: string | undefined;
  readonly sseCustomerAlgorithm?: string | undefined;
  /** Base64 of a 256-bit key for SSE-C. */
  readonly sseCustomerKey?: string | undefined;
  /** KMS key id, ARN or alias for SSE-KMS. */
  readonly sseKmsKeyId?: string | undefined;
  /** HEAD requests in flight when a listing reads timestamps from metadata (default 32). */
  readonly metadataConcurrency?: number | undefined;
  /** After a batch delete, list the keys again and fail if the store kept any (default true). */
  readonly verifyDeletes?: boolean | undefined;
  /** Attempts per request, retries included (default 10, as Litestream). */
  readonly maxAttempts?: number | undefined;
  /** Environment for credential and region look-up (default `process.env`). */
  readonly env?: Environment | undefined;
  /** The chain used when no keys are given (default: the SDK's Node chain). */
  readonly defaultCredentials?: (() => AwsCredentialIdentityProvider) | undefined;
  readonly warn?: ((message: string) => void) | undefined;
  readonly onOperation?: OperationHook | undefined;
}

/** Options after presets and defaults: what the client runs with. */
export interface S3Settings {
  readonly bucket: string;
  readonly path: string;
  readonly region: string;
  /** Full endpoint URL, or undefined for Amazon S3's own endpoints. */
  readonly endpoint: string | undefined;
  readonly accessPoint: boolean;
  readonly provider: ProviderPreset | undefined;
  readonly forcePathStyle: boolean;
  readonly signPayload: boolean;
  readonly requireContentMd5: boolean;
  readonly skipVerify: boolean;
  readonly partSize: number;
  readonly concurrency: number;
  readonly storageClass: string | undefined;
  readonly encryption: ServerSideEncryption;
  /** Let the SDK add its checksums (only toward Amazon; other stores get no aws-chunked bodies or trailers). */
  readonly awsChecksums: boolean;
  /** Follow a 301 to the bucket's region when the region was a guess. */
  readonly followRegionRedirects: boolean;
  readonly headers: Readonly<Record<string, string>>;
}

const ACCESS_POINT_ARN = /^arn:(aws[a-z-]*):s3:([a-z0-9-]+):(\d{12}):accesspoint[/:]([A-Za-z0-9-]+)$/;

/** Applies provider presets and defaults; explicit options always win. Throws `UsageError` on bad values. */
export function resolveS3Settings(options: S3ReplicaClientOptions): S3Settings {
  const bucket = options.bucket?.trim() ?? '';
  if (bucket === '') throw new UsageError('s3 replica needs a bucket: set "bucket" or use a URL such as s3://BUCKET/PATH');
  const accessPoint = bucket.toLowerCase().startsWith('arn:');
  const arn = accessPoint ? ACCESS_POINT_ARN.exec(bucket) : undefined;
  if (accessPoint && !arn) {
    throw new UsageError(`s3 bucket ${JSON.stringify(bucket)} is not an access point ARN of the form arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME`);
  }
  const endpoint = options.endpoint ? withScheme(options.endpoint) : undefined;
  const detected = endpoint === undefined ? undefined : detectProvider(endpoint);
  const preset = detected?.preset.id === 'aws' ? undefined : detected?.preset;
  const env = options.env ?? process.env;
  const explicitRegion = blankToUndefined(options.region);
  const region =
    explicitRegion ??
    arn?.[2] ??
    detected?.region ??
    preset?.defaultRegion ??
    (endpoint === undefined ? (blankToUndefined(env.AWS_REGION) ?? blankToUndefined(env.AWS_DEFAULT_REGION)) : undefined) ??
    'us-east-1';
  const awsChecksums = isAmazonEndpoint(endpoint);
  return {
    bucket,
    path: normalizePath(options.path ?? ''),
    region,
    endpoint,
    accessPoint,
    provider: preset,
    // Litestream: an explicit endpoint means path-style, since only AWS itself needs none.
    forcePathStyle: options.forcePathStyle ?? preset?.forcePathStyle ?? endpoint !== undefined,
    signPayload: options.signPayload ?? preset?.signPayload ?? true,
    requireContentMd5: options.requireContentMd5 ?? preset?.requireContentMd5 ?? true,
    skipVerify: options.skipVerify ?? false,
    partSize: options.partSize === undefined ? DEFAULT_PART_SIZE : parsePartSize(options.partSize),
    concurrency: options.concurrency === undefined ? (preset?.concurrency ?? DEFAULT_CONCURRENCY) : parseConcurrency(options.concurrency),
    storageClass: blankToUndefined(options.storageClass),
    encryption: serverSideEncryption({ ...options, endpoint }),
    awsChecksums,
    followRegionRedirects: awsChecksums && explicitRegion === undefined && !accessPoint,
    headers: preset?.headers ?? {},
  };
}

/**
 * Adds a scheme to an endpoint given as `host[:port]`: HTTP for localhost and private
 * addresses (development servers), HTTPS for everything else.
 */
export function withScheme(endpoint: string): string {
  const text = endpoint.trim().replace(/\/+$/, '');
  if (/^https?:\/\//i.test(text)) {
    checkEndpointURL(text, 's3');
    return text;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new UsageError(`s3 endpoint ${JSON.stringify(endpoint)} must use http:// or https://`);
  let hostname: string;
  try {
    hostname = new URL(`http://${text}`).hostname.replace(/^\[|\]$/g, '');
  } catch (cause) {
    throw new UsageError(`invalid s3 endpoint ${JSON.stringify(endpoint)}`, { cause });
  }
  const url = `${isLocalHost(hostname) ? 'http' : 'https'}://${text}`;
  checkEndpointURL(url, 's3');
  return url;
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
