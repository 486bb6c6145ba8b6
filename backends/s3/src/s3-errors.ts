import { LitestreamError } from '@litestream-ts/core';
import { MissingCredentialsError } from './credentials.ts';

/** The facts of a failed S3 request worth showing; nothing that could carry a credential. */
export interface S3Failure {
  /** S3's error code (`NoSuchKey`, `AccessDenied`, …) or the network error code. */
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly message: string;
}

/**
 * An S3 request failed. Built from the SDK's error without keeping it: SDK errors carry the
 * raw response (signatures, the access key id of an `InvalidAccessKeyId`), so only the code,
 * HTTP status, request id and a scrubbed message are kept.
 */
export class S3RequestError extends LitestreamError {
  readonly operation: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  constructor(operation: string, key: string | undefined, failure: S3Failure & { requestId?: string | undefined }) {
    const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
    const code = failure.code && !failure.message.startsWith(failure.code) ? `${failure.code}: ` : '';
    super(`s3 ${operation} failed${status}: ${code}${failure.message}${hintFor(failure.code)}`, { file: key });
    this.operation = operation;
    this.code = failure.code;
    this.status = failure.status;
    this.requestId = failure.requestId;
  }
}

/** DeleteObjects answered 200 but listed per-key errors. */
export class DeleteFailedError extends LitestreamError {
  /** Each key that was not deleted, with S3's code and message. */
  readonly failures: readonly { key: string; code: string; message: string }[];
  constructor(failures: readonly { key: string; code: string; message: string }[]) {
    const shown = failures.slice(0, 5).map((f) => `${f.key}: ${f.code}${f.message ? ` (${f.message})` : ''}`);
    const more = failures.length > 5 ? `; and ${failures.length - 5} more` : '';
    super(`s3 delete failed for ${failures.length} object(s): ${shown.join('; ')}${more}`, { file: failures[0]?.key });
    this.failures = failures;
  }
}

/** The store reported objects deleted, yet still lists them (Cloudflare R2 has been seen to do this). */
export class DeleteNotPerformedError extends LitestreamError {
  readonly keys: readonly string[];
  constructor(keys: readonly string[]) {
    const shown = keys.slice(0, 5).join(', ') + (keys.length > 5 ? ` and ${keys.length - 5} more` : '');
    super(
      `s3 store reported ${keys.length} object(s) deleted but still lists them: ${shown}; the provider did not perform the delete (known on Cloudflare R2; a lifecycle rule on the replica prefix can clean up)`,
      { file: keys[0] },
    );
    this.keys = keys;
  }
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

/** What a user can do about an error the message alone does not explain. */
function hintFor(code: string | undefined): string {
  if (code && NETWORK_CODES.has(code)) return ' (cannot reach the S3 endpoint: check "endpoint"/"region" and the network)';
  if (code === 'NoSuchBucket') return ' (create the bucket or fix the replica\'s bucket name)';
  if (code === 'AccessDenied' || code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') return ' (check access-key-id/secret-access-key and the bucket policy)';
  return '';
}

/** Reads code, status and message from whatever the SDK threw. */
export function describeFailure(error: unknown): S3Failure & { requestId: string | undefined } {
  const e = (error ?? {}) as { name?: unknown; Code?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number; requestId?: string } };
  const status = e.$metadata?.httpStatusCode;
  const code = [e.Code, e.code, e.name].find((c): c is string => typeof c === 'string' && c !== '' && c !== 'Error');
  let message = typeof e.message === 'string' && e.message !== '' ? e.message : (code ?? String(error));
  // The SDK says "UnknownError" for bodiless replies (HEAD); the status says more.
  if (message === 'UnknownError' && status !== undefined) message = `HTTP ${status}`;
  return { code, status, message, requestId: e.$metadata?.requestId };
}

/**
 * Turns an SDK error into an `S3RequestError` (or passes our own errors through), removing any
 * of `secrets` from the text.
 */
export function wrapS3Error(error: unknown, operation: string, key: string | undefined, secrets: readonly string[]): Error {
  if (error instanceof LitestreamError) return error;
  if (isCredentialsFailure(error)) return new MissingCredentialsError();
  const failure = describeFailure(error);
  return new S3RequestError(operation, key, { ...failure, message: scrub(failure.message, secrets) });
}

/** The object does not exist (GET's NoSuchKey, HEAD's bodiless 404). */
export function isNotFound(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return code === 'NoSuchKey' || code === 'NotFound' || (status === 404 && code !== 'NoSuchBucket');
}

/** A precondition (If-Match / If-None-Match) did not hold: 412, or 409 for a concurrent conditional write. */
export function isPreconditionFailure(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return status === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict';
}

/** The range starts at or past the end of the object (416). */
export function isInvalidRange(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return status === 416 || code === 'InvalidRange';
}

function isCredentialsFailure(error: unknown): boolean {
  return (error as { name?: unknown } | undefined)?.name === 'CredentialsProviderError';
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join('****');
  return out;
}
