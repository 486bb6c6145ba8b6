import { LitestreamError } from '@litestream-ts/core';

/** The Azure role a replica's identity needs on its container or account. */
export const REQUIRED_ROLE = 'Storage Blob Data Contributor';

/** Where a request went, for messages. */
export interface AbsTarget {
  readonly account: string;
  readonly container: string;
  readonly endpoint: string;
  /** Describes the credential in use (never the credential itself). */
  readonly credential: string;
  /** Strings to remove from any text shown (account key, SAS token, its signature). */
  readonly secrets: readonly string[];
  /** Attempts the SDK makes for a network failure before giving up. */
  readonly maxTries: number;
}

/** The parts of a failed Azure request worth showing; nothing that could carry a credential. */
export interface AbsFailure {
  /** Azure's error code (`BlobNotFound`, `AuthorizationFailure`, …) or the network error code. */
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly message: string;
  readonly requestId?: string | undefined;
}

/**
 * An Azure Blob Storage request failed. Built from the SDK's `RestError` without keeping it:
 * that error holds the request (its URL carries a SAS token), so only facts are copied.
 */
export class AbsRequestError extends LitestreamError {
  readonly operation: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  constructor(operation: string, blob: string | undefined, failure: AbsFailure, explanation?: string) {
    const status = failure.status === undefined ? '' : `, HTTP ${failure.status}`;
    const what = failure.code ? ` (${failure.code}${status})` : status ? ` (${status.slice(2)})` : '';
    super(`abs ${operation} failed${what}: ${explanation ?? failure.message}`, { file: blob });
    this.operation = operation;
    this.code = failure.code;
    this.status = failure.status;
    this.requestId = failure.requestId;
  }
}

/** The account key or SAS token was rejected. */
export class AbsAuthenticationError extends AbsRequestError {}

/** The identity is known but may not do this: usually a missing role assignment. */
export class AbsPermissionError extends AbsRequestError {
  readonly role = REQUIRED_ROLE;
}

/** The replica's container does not exist. */
export class AbsContainerNotFoundError extends AbsRequestError {
  readonly container: string;
  constructor(operation: string, blob: string | undefined, failure: AbsFailure, target: AbsTarget) {
    super(operation, blob, failure, `container "${target.container}" does not exist in storage account "${target.account}" (${target.endpoint}); create it or fix the container name (the first part of abs://CONTAINER/PATH, or "bucket" in the config)`);
    this.container = target.container;
  }
}

/** No HTTP answer at all: wrong endpoint or account name, DNS, firewall, or the service is down. */
export class AbsUnreachableError extends AbsRequestError {}

/** DefaultAzureCredential found no usable identity. */
export class AbsCredentialsError extends LitestreamError {}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EHOSTUNREACH',
  'ENETUNREACH', 'EPIPE', 'REQUEST_SEND_ERROR', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
]);
const IDENTITY_ERRORS = new Set(['CredentialUnavailableError', 'AggregateAuthenticationError', 'AuthenticationError', 'AuthenticationRequiredError']);

/** Reads code, status and the first line of the message from whatever the SDK threw. */
export function describeFailure(error: unknown): AbsFailure {
  const e = (error ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown; details?: { errorCode?: unknown; requestId?: unknown }; cause?: { code?: unknown } };
  // A HEAD has no body, so its code is only in the x-ms-error-code header (details.errorCode).
  const code = [e.details?.errorCode, e.code, e.cause?.code].find((c): c is string => typeof c === 'string' && c !== '');
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const text = typeof e.message === 'string' && e.message !== '' ? e.message : (code ?? String(error));
  // Azure appends "RequestId:…" and "Time:…" lines; the first line is the message.
  const message = text.split('\n')[0]!.trim() || (status !== undefined ? `HTTP ${status}` : 'request failed');
  const requestId = typeof e.details?.requestId === 'string' ? e.details.requestId : undefined;
  return { code, status, message, requestId };
}

/**
 * Turns an SDK error into one of this package's errors, naming what a user must fix. Our own
 * errors and errors from the data source (not SDK errors) pass through unchanged.
 */
export function wrapAbsError(error: unknown, operation: string, blob: string | undefined, target: AbsTarget): Error {
  if (error instanceof LitestreamError) return error;
  const name = (error as { name?: unknown } | undefined)?.name;
  if (typeof name === 'string' && IDENTITY_ERRORS.has(name)) {
    return new AbsCredentialsError(
      `abs ${operation} failed: no usable Azure credentials: ${scrub(describeFailure(error).message, target.secrets)}. Set "sas-token", or "account-name" with "account-key" (or LITESTREAM_AZURE_SAS_TOKEN / LITESTREAM_AZURE_ACCOUNT_KEY), or give DefaultAzureCredential an identity: AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, a managed identity, or \`az login\``,
      { file: blob },
    );
  }
  if (name !== 'RestError') return error instanceof Error ? error : new Error(String(error));
  const raw = describeFailure(error);
  const failure = { ...raw, message: scrub(raw.message, target.secrets) };
  const { code, status } = failure;
  const account = `storage account "${target.account}" (${target.endpoint})`;
  if (code === 'ContainerNotFound') return new AbsContainerNotFoundError(operation, blob, failure, target);
  if (status === 403 && (code === 'AuthenticationFailed' || (code === 'AuthorizationFailure' && /authenticate/i.test(failure.message)))) {
    return new AbsAuthenticationError(operation, blob, failure, `${account} rejected the ${target.credential}: check "account-name" and "account-key" or "sas-token" (Azure: ${failure.message})`);
  }
  if (status === 403 && (code === 'AuthorizationPermissionMismatch' || code === 'AuthorizationFailure' || code === 'AuthorizationResourceTypeMismatch')) {
    return new AbsPermissionError(
      operation,
      blob,
      failure,
      `the ${target.credential} may not do this on container "${target.container}" in ${account}: assign the "${REQUIRED_ROLE}" role to the identity on the container or account (Owner or Contributor alone give no data access), give a SAS token the read, add, create, write, delete and list permissions, or check the account's network rules (Azure: ${failure.message})`,
    );
  }
  if (status === undefined && code !== undefined && NETWORK_CODES.has(code)) {
    return new AbsUnreachableError(operation, blob, failure, `cannot reach ${account} (${target.maxTries} attempt${target.maxTries === 1 ? '' : 's'}): ${failure.message}; check "endpoint" or "account-name" and the network`);
  }
  return new AbsRequestError(operation, blob, failure);
}

/** The blob does not exist (GET's `BlobNotFound`, or a HEAD's bodiless 404). */
export function isBlobNotFound(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return code === 'BlobNotFound' || (status === 404 && code === undefined);
}

/** A precondition did not hold: 412 `ConditionNotMet`, or 409 `BlobAlreadyExists` for If-None-Match: *. */
export function isPreconditionFailure(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return status === 412 || code === 'ConditionNotMet' || code === 'BlobAlreadyExists';
}

/** The range starts at or past the end of the blob (416). */
export function isInvalidRange(error: unknown): boolean {
  const { code, status } = describeFailure(error);
  return status === 416 || code === 'InvalidRange';
}

/** Replaces each secret (and its URL-encoded form) in `text` with `****`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('****');
  }
  return out;
}
