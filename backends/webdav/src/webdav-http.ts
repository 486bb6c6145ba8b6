import type { Agent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { LitestreamError, NotFoundError, connectTimeoutAgent } from '@litestream-ts/core';
import type { WebdavSettings } from './webdav-config.ts';

/** The server answered a WebDAV request with an unexpected HTTP status. */
export class WebdavError extends LitestreamError {
  /** The HTTP status code. */
  readonly status: number;
  constructor(method: string, path: string, status: number, statusText: string, hint = '') {
    super(`webdav ${method} answered ${status} ${statusText}${hint}`, { file: path });
    this.status = status;
  }
}

/** What one request sends. */
export interface WebdavRequest {
  readonly method: string;
  /** Path below the base URL (segments unencoded, '/'-separated); a trailing '/' names a collection. */
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /**
   * Request body: bytes, or a function that opens it afresh for each attempt (a stream whose
   * length is in `headers['content-length']`).
   */
  readonly body?: Uint8Array | (() => Uint8Array | Readable);
  readonly signal: AbortSignal;
  /**
   * Whether sending the request twice does no harm (default true). A request that is not is
   * retried only when the server said it did nothing (423, 502, 503, 504), never after a
   * connection dropped with the request possibly applied.
   */
  readonly idempotent?: boolean;
  /** Told about each failed attempt that is retried (the storage call names the last one if it times out). */
  readonly failed?: (error: unknown) => void;
}

/** Attempts of one request at most (the request timeout usually ends a longer streak first). */
export const MAX_ATTEMPTS = 10;

/**
 * Statuses that mean the server did nothing and may do it on a retry: 423 Locked (another
 * request holds the path for a moment: servers lock a path while they create or move it),
 * and a gateway or server that is briefly unavailable.
 */
const RETRIED_STATUSES = new Set([423, 502, 503, 504]);

/** Connection failures after which a request may be sent again (the agent may have reused a socket the server had closed). */
const RETRIED_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * The HTTP side of the WebDAV client: Node's own `http`/`https` with a keep-alive agent that
 * enforces the connect timeout, Basic authentication, the base URL the replica path is under, and
 * retries with backoff of what failed without harm. Credentials travel only in the
 * Authorization header, never in a URL or a message.
 */
export class WebdavHttp {
  /** The base URL, ending in '/'. */
  readonly base: URL;
  private readonly agent: Agent;
  private readonly authorization: string | undefined;
  private readonly secure: boolean;

  constructor(settings: WebdavSettings, connectTimeout: number) {
    this.base = new URL(`${settings.url.replace(/\/+$/, '')}/`);
    this.secure = this.base.protocol === 'https:';
    this.agent = connectTimeoutAgent(this.base.protocol, connectTimeout);
    this.authorization =
      settings.username === undefined && settings.password === undefined
        ? undefined
        : `Basic ${Buffer.from(`${settings.username ?? ''}:${settings.password ?? ''}`).toString('base64')}`;
  }

  /** The absolute URL of a path below the base, each segment percent-encoded. */
  urlOf(path: string): URL {
    const encoded = path
      .split('/')
      .map((segment) => encodeURIComponent(segment))
      .join('/');
    return new URL(encoded.replace(/^\/+/, ''), this.base);
  }

  /** The server path (decoded) of a path below the base, for messages and for matching hrefs. */
  serverPath(path: string): string {
    return decodeURIComponent(this.urlOf(path).pathname);
  }

  /**
   * Sends a request and resolves with the response once its head arrives. Retries, after a
   * backoff, a status in `RETRIED_STATUSES` and (idempotent requests only) a dropped or refused
   * connection, up to `MAX_ATTEMPTS`; then the last answer or error is the result.
   */
  async send(request: WebdavRequest): Promise<IncomingMessage> {
    for (let attempt = 1; ; attempt++) {
      let response: IncomingMessage;
      try {
        response = await this.sendOnce(request);
      } catch (error) {
        await retryAfterError(request, attempt, error);
        continue;
      }
      const status = response.statusCode ?? 0;
      if (!RETRIED_STATUSES.has(status) || attempt >= MAX_ATTEMPTS) return response;
      response.resume();
      request.failed?.(this.failure(request, status, response.statusMessage));
      await backoff(attempt, request.signal);
    }
  }

  /** Sends a request, reads the whole answer, and throws `WebdavError`/`NotFoundError` unless its status is in `ok`. */
  async call(request: WebdavRequest, ok: readonly number[]): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.send(request);
      let body: Buffer;
      try {
        body = await readAll(response);
      } catch (error) {
        // The answer was cut off: an idempotent request is simply asked again.
        await retryAfterError(request, attempt, error);
        continue;
      }
      const status = response.statusCode ?? 0;
      if (!ok.includes(status)) throw this.failure(request, status, response.statusMessage);
      return { status, headers: response.headers, body };
    }
  }

  /** The error for an unexpected status (404 is `NotFoundError`). */
  failure(request: Pick<WebdavRequest, 'method' | 'path'>, status: number | undefined, statusText = ''): Error {
    status ??= 0;
    const where = `${this.base.origin}${this.serverPath(request.path)}`;
    if (status === 404) return new NotFoundError(where);
    const hint =
      status === 401 ? ': the server refused the credentials (webdav-username, webdav-password)'
      : status === 403 ? ': the account may not do this here'
      : status === 507 ? ': the server is out of space'
      : '';
    return new WebdavError(request.method, where, status, statusText, hint);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private sendOnce(request: WebdavRequest): Promise<IncomingMessage> {
    const url = this.urlOf(request.path);
    const headers: OutgoingHttpHeaders = { ...request.headers };
    if (this.authorization !== undefined) headers.authorization = this.authorization;
    const { request: open } = process.getBuiltinModule(this.secure ? 'node:https' : 'node:http');
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = open(url, { method: request.method, headers, agent: this.agent, signal: request.signal });
      req.once('response', resolve);
      req.once('error', reject);
      const body = typeof request.body === 'function' ? request.body() : request.body;
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        body.once('error', (error) => req.destroy(error));
        body.pipe(req);
      }
    });
  }
}

/** Waits before attempt `attempt + 1`: 50 ms doubling, at most 1 s; rejects when the call is abandoned. */
export function backoff(attempt: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, Math.min(1000, 50 * 2 ** (attempt - 1)));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The whole body of a response. */
export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}

/**
 * After a request failed with `error` on its `attempt`-th try: rethrows unless asking again is
 * safe and useful (not aborted, attempts left, an idempotent request, a dropped connection),
 * else reports the failure and waits out the backoff.
 */
async function retryAfterError(request: WebdavRequest, attempt: number, error: unknown): Promise<void> {
  if (request.signal.aborted || attempt >= MAX_ATTEMPTS || request.idempotent === false || !RETRIED_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  request.failed?.(error);
  await backoff(attempt, request.signal);
}
