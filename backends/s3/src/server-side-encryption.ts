import { createHash } from 'node:crypto';
import { UsageError } from '@litestream-ts/core';

/** Request parameters for server-side encryption, as the SDK names them. */
export interface SseParams {
  readonly SSECustomerAlgorithm?: string;
  readonly SSECustomerKey?: string;
  readonly SSECustomerKeyMD5?: string;
  readonly ServerSideEncryption?: 'aws:kms';
  readonly SSEKMSKeyId?: string;
}

/** How objects are encrypted at rest: none (the bucket default), customer keys (SSE-C) or a KMS key (SSE-KMS). */
export interface ServerSideEncryption {
  /** Parameters for PUT and multipart uploads. */
  readonly write: SseParams;
  /** Parameters for GET and HEAD: SSE-C needs the key again; KMS decrypts by itself. */
  readonly read: SseParams;
}

const NONE: ServerSideEncryption = { write: {}, read: {} };

/**
 * Checks and prepares SSE settings the way Litestream does: SSE-C and SSE-KMS exclude each
 * other; SSE-C takes a base64 256-bit key, algorithm AES256, and refuses plain HTTP except to
 * loopback or private addresses (the key travels in a header).
 */
export function serverSideEncryption(options: {
  sseCustomerAlgorithm?: string | undefined;
  sseCustomerKey?: string | undefined;
  sseKmsKeyId?: string | undefined;
  endpoint?: string | undefined;
}): ServerSideEncryption {
  const { sseCustomerKey, sseKmsKeyId } = options;
  if (sseCustomerKey && sseKmsKeyId) throw new UsageError('s3: sse-customer-key and sse-kms-key-id exclude each other; set only one');
  if (sseKmsKeyId) {
    const write: SseParams = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: sseKmsKeyId };
    return { write, read: {} };
  }
  if (!sseCustomerKey) {
    if (options.sseCustomerAlgorithm) throw new UsageError('s3: sse-customer-algorithm is set but sse-customer-key is not');
    return NONE;
  }
  const algorithm = options.sseCustomerAlgorithm || 'AES256';
  if (algorithm !== 'AES256') throw new UsageError(`s3: sse-customer-algorithm must be AES256, got ${JSON.stringify(algorithm)}`);
  const key = Buffer.from(sseCustomerKey, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sseCustomerKey) || key.byteLength !== 32) {
    // Never echo the key itself.
    throw new UsageError(`s3: sse-customer-key must be 32 bytes (256 bits) encoded in base64, got ${key.byteLength} bytes`);
  }
  if (options.endpoint && !allowsCustomerKeyOver(options.endpoint)) {
    throw new UsageError('s3: sse-customer-key needs an HTTPS endpoint (plain HTTP is allowed only to localhost and private addresses)');
  }
  const params: SseParams = {
    SSECustomerAlgorithm: algorithm,
    SSECustomerKey: sseCustomerKey,
    SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
  };
  return { write: params, read: params };
}

function allowsCustomerKeyOver(endpoint: string): boolean {
  if (!endpoint.startsWith('http://')) return true;
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  return isLocalHost(host);
}

/** Loopback and private-network hosts, where plain HTTP is the usual development set-up. */
export function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host === '::1') return true;
  const octets = host.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a, b] = octets as [number, number, number, number];
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}
