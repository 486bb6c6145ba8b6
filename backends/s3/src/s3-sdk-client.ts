import { createHash } from 'node:crypto';
import { Agent } from 'node:https';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { StorageTimeouts } from '@litestream-ts/core';
import type { AwsCredentialIdentityProvider } from './credentials.ts';
import { instrumentRequestHandler } from './s3-call-context.ts';
import type { S3Settings } from './s3-settings.ts';

/** Litestream retries each request up to 10 times. */
export const DEFAULT_MAX_ATTEMPTS = 10;

type HttpRequestLike = { headers?: Record<string, string>; body?: unknown };

/**
 * Builds the SDK client for resolved settings: adaptive retries, the connect timeout and a
 * per-attempt socket inactivity timeout (the request timeout), requests that belong to the
 * replica client's storage calls (see `s3-call-context.ts`), the provider's headers, and,
 * toward anything that is not Amazon S3, checksums only where an operation requires one, so
 * no body is sent aws-chunked with trailing checksums (which B2, Tigris, MinIO, … reject with
 * `InvalidContentEncoding`/`MalformedTrailerError`, or store corrupted).
 */
export function createS3Client(settings: S3Settings, credentials: AwsCredentialIdentityProvider, maxAttempts = DEFAULT_MAX_ATTEMPTS, timeouts: StorageTimeouts = {}): S3Client {
  const checksums = settings.awsChecksums ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED';
  const config: S3ClientConfig = {
    region: settings.region,
    credentials,
    forcePathStyle: settings.forcePathStyle,
    retryMode: 'adaptive',
    maxAttempts,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    followRegionRedirects: settings.followRegionRedirects,
    useArnRegion: true,
    customUserAgent: 'litestream-ts',
  };
  if (settings.endpoint !== undefined) config.endpoint = settings.endpoint;
  config.requestHandler = {
    // 0 leaves each to the SDK (none) and the operating system.
    ...(timeouts.connectTimeout ? { connectionTimeout: timeouts.connectTimeout } : {}),
    // A dead connection is dropped after this long without a byte, so a request left behind by
    // an abandoned call cannot linger (the call itself is ended by ReplicaClient's clock).
    ...(timeouts.requestTimeout ? { socketTimeout: timeouts.requestTimeout } : {}),
    ...(settings.skipVerify ? { httpsAgent: new Agent({ keepAlive: true, rejectUnauthorized: false }) } : {}),
  };
  const client = new S3Client(config);
  instrumentRequestHandler(client);

  const headers = Object.entries(settings.headers);
  if (headers.length > 0) {
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as HttpRequestLike;
        if (request.headers) for (const [name, value] of headers) request.headers[name] = value;
        return next(args);
      },
      { step: 'build', name: 'litestreamProviderHeaders' },
    );
  }

  if (!settings.signPayload) {
    // The signer uses a body hash already present in the headers instead of computing one.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as HttpRequestLike;
        if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'litestreamUnsignedPayload' },
    );
  }

  if (settings.requireContentMd5) {
    // Several S3-compatible stores insist on Content-MD5 for DeleteObjects, as S3 once did.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as HttpRequestLike;
        if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', name: 'litestreamDeleteContentMd5' },
    );
  }
  return client;
}
