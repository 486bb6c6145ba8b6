import { LitestreamError } from '@litestream-ts/core';

/** A NATS request failed. The message names the operation, object and server, never a credential. */
export class NatsRequestError extends LitestreamError {
  /** The nats.js error code (`AUTHORIZATION_VIOLATION`, `CONNECTION_REFUSED`, `TIMEOUT`, `503`, …) when there is one. */
  readonly code: string | undefined;

  constructor(operation: string, where: string, cause: unknown, secrets: readonly string[], timeoutMs: number) {
    super(scrub(`nats ${operation} failed: ${explain(cause, timeoutMs)}`, secrets), { file: where, cause: scrubbedCause(cause, secrets) });
    this.code = codeOf(cause);
  }
}

/** True for JetStream's "wrong last sequence" answer to a failed compare-and-swap (err_code 10071). */
export function isWrongLastSequence(error: unknown): boolean {
  const api = (error as { api_error?: { err_code?: number } } | undefined)?.api_error;
  return api?.err_code === 10071 || /wrong last sequence/i.test(String((error as Error | undefined)?.message));
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

// nats.js reports bare codes; say what they mean and what to check.
function explain(error: unknown, timeoutMs: number): string {
  const code = codeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  switch (code) {
    case 'AUTHORIZATION_VIOLATION':
      return 'authorization violation: the server refused the credentials (check username/password, token, nkey, jwt/seed or creds)';
    case 'AUTHENTICATION_EXPIRED':
      return 'the user JWT has expired';
    case 'CONNECTION_REFUSED':
      return 'connection refused: no NATS server is listening there';
    case 'CONNECTION_TIMEOUT':
      return `connection timed out after ${timeoutMs} ms`;
    case 'TIMEOUT':
      return `no answer within ${timeoutMs} ms (server unreachable or overloaded)`;
    case '503':
      return 'JetStream is not enabled on the server (start nats-server with -js) or not available to this account';
    case 'PERMISSIONS_VIOLATION':
      return `permissions violation: ${message}`;
    case 'DISCONNECTED':
      return `the connection was lost and not re-established within ${timeoutMs} ms`;
    case 'CONNECTION_CLOSED':
      return 'the connection is closed';
    default:
      return code !== undefined && code !== message ? `${message} (${code})` : message;
  }
}

/** Replaces each secret in `text` with `****`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('****');
  return out;
}

function scrubbedCause(cause: unknown, secrets: readonly string[]): unknown {
  if (!(cause instanceof Error) || secrets.every((s) => !cause.message.includes(s))) return cause;
  return new Error(scrub(cause.message, secrets));
}
