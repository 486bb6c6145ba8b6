import { createHash, createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.ts';
import type { S3Kind, S3Service } from './s3-service.ts';

/** Where and as whom to send a request to an S3-compatible server. */
export interface S3Target {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');

/**
 * Sends one bodiless S3 request signed with SigV4 (header form), e.g. `PUT /bucket` to create a
 * bucket. Enough for fixture set-up without making the AWS SDK a runtime dependency; the tests'
 * own traffic goes through whatever client they test. `path` must already be URI-encoded.
 */
export async function signedS3Request(target: S3Target, method: string, path: string): Promise<Response> {
  const url = new URL(path, target.endpoint);
  const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, ''); // 20260102T030405Z
  const day = now.slice(0, 8);
  const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': EMPTY_SHA256, 'x-amz-date': now };
  const names = Object.keys(headers).sort();
  const query = [...url.searchParams]
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .sort()
    .join('&');
  const canonicalRequest = [
    method,
    url.pathname,
    query,
    names.map((n) => `${n}:${headers[n]}\n`).join(''),
    names.join(';'),
    EMPTY_SHA256,
  ].join('\n');
  const scope = `${day}/${target.region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', now, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  let key: Buffer = hmac(`AWS4${target.secretAccessKey}`, day);
  for (const part of [target.region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  const { host: _host, ...sent } = headers; // fetch sets Host itself, to the same value
  return fetch(url, {
    method,
    headers: {
      ...sent,
      authorization: `AWS4-HMAC-SHA256 Credential=${target.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
    },
    signal: AbortSignal.timeout(10_000),
  });
}

/** Creates a bucket with a signed `PUT /name`; throws with the server's answer when it refuses. */
export async function createBucketSigned(target: S3Target, name: string): Promise<void> {
  const res = await signedS3Request(target, 'PUT', `/${encodeURIComponent(name)}`);
  const body = await res.text();
  if (!res.ok) throw new Error(`creating bucket ${name} at ${target.endpoint} failed: HTTP ${res.status} ${body.slice(0, 500)}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What a fixture knows about the server it started, before the recording proxy is put in front. */
export interface S3Upstream extends S3Target {
  readonly kind: S3Kind;
  readonly enforcesConditionalWrites: boolean;
  log(): string;
  /** Stops the server itself (kills its process, stops its container). */
  stop(): Promise<void>;
  /** Temp directories to remove once the server has stopped. */
  readonly tempDirs?: readonly string[];
  /** The server's process, when it is a local one. */
  readonly pid?: number;
}

/**
 * Puts a recording proxy in front of a started server and returns the fixture callers see:
 * `endpoint` is the proxy's, so every request the client under test sends is recorded.
 * `createBucket` goes to the server directly, so set-up does not show up in `requests()`.
 * If the proxy cannot start, the server is stopped before the error propagates.
 */
export async function withRecordingProxy(upstream: S3Upstream): Promise<S3Service> {
  const cleanUp = async () => {
    try {
      await upstream.stop();
    } finally {
      await Promise.all((upstream.tempDirs ?? []).map((dir) => rm(dir, { recursive: true, force: true })));
    }
  };
  let proxy: RecordingProxy;
  try {
    proxy = await startRecordingProxy(upstream.endpoint);
  } catch (err) {
    await cleanUp();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  return {
    kind: upstream.kind,
    endpoint: proxy.url,
    directEndpoint: upstream.endpoint,
    ...(upstream.pid === undefined ? {} : { pid: upstream.pid }),
    region: upstream.region,
    accessKeyId: upstream.accessKeyId,
    secretAccessKey: upstream.secretAccessKey,
    enforcesConditionalWrites: upstream.enforcesConditionalWrites,
    requests: () => proxy.requests(),
    clearRequests: () => proxy.clearRequests(),
    createBucket: (name) => createBucketSigned(upstream, name),
    log: () => upstream.log(),
    stop: () => (stopping ??= proxy.close().then(cleanUp)),
  };
}
