import { LitestreamError } from '@litestream-ts/core';

/** What is worth showing of a failed request; nothing that could carry a credential. */
export interface GcsFailure {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** Google's `reason` (`notFound`, `conditionNotMet`, `forbidden`, …) or a network error code (`ECONNREFUSED`). */
  readonly reason: string | undefined;
  readonly message: string;
}

/** A GCS request failed. Built from the SDK's error without keeping it (it holds the request, headers included). */
export class GcsRequestError extends LitestreamError {
  readonly operation: string;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  constructor(operation: string, key: string | undefined, failure: GcsFailure, hint = '') {
    const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
    const reason = failure.reason && !failure.message.includes(failure.reason) ? `${failure.reason}: ` : '';
    super(`gcs ${operation} failed${status}: ${reason}${failure.message}${hint}`, { file: key });
    this.operation = operation;
    this.status = failure.status;
    this.reason = failure.reason;
  }
}

/** The bucket named in the replica's settings does not exist (or is not visible to these credentials). */
export class BucketNotFoundError extends LitestreamError {
  readonly bucket: string;
  constructor(bucket: string, operation: string) {
    super(`gcs ${operation} failed: bucket "${bucket}" does not exist; create it or fix the replica's bucket name`);
    this.bucket = bucket;
  }
}

/** The credentials were accepted but lack a permission (403), or were refused (401). */
export class GcsPermissionError extends LitestreamError {
  readonly status: number;
  constructor(bucket: string, operation: string, key: string | undefined, failure: GcsFailure) {
    const what = failure.status === 401 ? 'not authenticated' : 'permission denied';
    super(
      `gcs ${operation} on bucket "${bucket}" failed (HTTP ${failure.status}): ${what}: ${failure.message}; check the service account's roles (Storage Object Admin on the bucket) or GOOGLE_APPLICATION_CREDENTIALS`,
      { file: key },
    );
    this.status = failure.status ?? 403;
  }
}

/** No credentials could be found (Application Default Credentials, GOOGLE_APPLICATION_CREDENTIALS, metadata server). */
export class GcsCredentialsError extends LitestreamError {
  constructor(detail: string) {
    super(
      `gcs: no usable Google credentials (${detail}); set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file, run \`gcloud auth application-default login\`, or run on Google Cloud with a service account`,
    );
  }
}

/** Reads status, reason and message from whatever the SDK (or gaxios, or node) threw. */
export function describeFailure(error: unknown): GcsFailure {
  const e = (error ?? {}) as { code?: unknown; status?: unknown; message?: unknown; errors?: unknown; response?: { status?: unknown } };
  const status = typeof e.code === 'number' ? e.code : typeof e.status === 'number' ? e.status : typeof e.response?.status === 'number' ? e.response.status : undefined;
  let reason: string | undefined = typeof e.code === 'string' ? e.code : undefined;
  let message = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  // ApiError: errors[{reason, message}]; a failed resumable upload: errors[{error: {…}}] (the raw body).
  const first = Array.isArray(e.errors) ? (e.errors[0] as Record<string, unknown> | undefined) : undefined;
  const inner = (first?.error as { errors?: Array<Record<string, unknown>>; message?: unknown } | undefined) ?? undefined;
  const detail = inner?.errors?.[0] ?? first;
  if (typeof detail?.reason === 'string') reason = detail.reason;
  if ((message === 'Upload failed' || message === '') && typeof (inner?.message ?? detail?.message) === 'string') message = String(inner?.message ?? detail?.message);
  return { status, reason, message: oneLine(message) };
}

/** 404 for an object (not for a missing bucket, which is a configuration error). */
export function isObjectNotFound(error: unknown): boolean {
  const f = describeFailure(error);
  return f.status === 404 && !isBucketMissing(f);
}

/** 412: a generation precondition did not hold. */
export function isPreconditionFailure(error: unknown): boolean {
  const f = describeFailure(error);
  return f.status === 412 || f.reason === 'conditionNotMet';
}

/** 416: the range starts at or past the end of the object. */
export function isInvalidRange(error: unknown): boolean {
  const f = describeFailure(error);
  return f.status === 416 || f.reason === 'requestedRangeNotSatisfiable';
}

/** Google's answer for a bucket that does not exist: 404 "The specified bucket does not exist." */
export function isBucketMissing(f: GcsFailure): boolean {
  return f.status === 404 && /bucket does not exist/i.test(f.message);
}

/** Turns an SDK error into one of ours (our own errors pass through), naming the bucket and key. */
export function wrapGcsError(error: unknown, operation: string, bucket: string, key: string | undefined, endpoint: string | undefined): Error {
  if (error instanceof LitestreamError) return error;
  const f = describeFailure(error);
  if (isBucketMissing(f)) return new BucketNotFoundError(bucket, operation);
  if (f.status === 401 || f.status === 403) return new GcsPermissionError(bucket, operation, key, f);
  if (/Could not load the default credentials|Unable to detect a Project Id|invalid_grant|error:0[0-9A-F]+:.*PEM|private key/i.test(f.message)) {
    return new GcsCredentialsError(f.message.slice(0, 200));
  }
  if (f.status === undefined && /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|fetch failed/i.test(`${f.reason ?? ''} ${f.message}`)) {
    return new GcsRequestError(operation, key, f, ` (cannot reach ${endpoint ?? 'storage.googleapis.com'})`);
  }
  return new GcsRequestError(operation, key, f);
}

function oneLine(text: string): string {
  // SDK messages can hold whole response bodies; the first line is the message.
  const line = text.split('\n')[0]!.trim();
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
