import type { ServerResponse } from 'node:http';

/**
 * A JSON API error as Google answers it: `{"error":{"code","message","errors":[{message,domain,reason}]}}`.
 * Thrown by handlers and turned into a response by the server.
 */
export class GcsApiError extends Error {
  readonly status: number;
  readonly reason: string;
  readonly extra: Readonly<Record<string, string>>;
  constructor(status: number, reason: string, message: string, extra: Readonly<Record<string, string>> = {}) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.extra = extra;
  }

  /** The response body, in Google's shape. */
  body(): string {
    return JSON.stringify({
      error: { code: this.status, message: this.message, errors: [{ message: this.message, domain: 'global', reason: this.reason, ...this.extra }] },
    });
  }
}

/** 404 for an object (Google's wording: `No such object: BUCKET/NAME`). */
export function noSuchObject(bucket: string, name: string): GcsApiError {
  return new GcsApiError(404, 'notFound', `No such object: ${bucket}/${name}`);
}

/** 404 for a bucket. */
export function noSuchBucket(): GcsApiError {
  return new GcsApiError(404, 'notFound', 'The specified bucket does not exist.');
}

/** 412 for a failed `ifGeneration*` / `ifMetageneration*` precondition. */
export function conditionNotMet(parameter: string): GcsApiError {
  return new GcsApiError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', {
    locationType: 'parameter',
    location: parameter,
  });
}

/** 400 for a malformed request. */
export function invalid(message: string, reason = 'invalid'): GcsApiError {
  return new GcsApiError(400, reason, message);
}

/** Writes a JSON API error response (none for HEAD). */
export function sendError(res: ServerResponse, error: GcsApiError, head = false): void {
  const body = error.body();
  res.writeHead(error.status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(head ? undefined : body);
}
