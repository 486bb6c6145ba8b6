import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LitestreamError } from '@litestream-ts/core';
import { parseListenAddress } from './listen-address.ts';
import type { PrometheusMetrics } from './prometheus-metrics.ts';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** Where to scrape, with the port actually bound (`http://localhost:9090/metrics`). */
  readonly url: string;
  /** Stops listening and drops open (keep-alive) connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` in Prometheus text format on `addr` (Litestream's `addr:` setting,
 * e.g. `:9090`); every other path is 404. Resolves once listening, so a port already in use
 * fails the command at start-up instead of being logged later, as Litestream does.
 */
export async function startMetricsServer(addr: string, metrics: PrometheusMetrics): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(addr);
  const server = createServer((request, response) => {
    // A failure while answering one scrape must not become an unhandled rejection.
    respond(request, response, metrics).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(addr, error));
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${displayHost(host)}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // A scraper's keep-alive connection would otherwise hold close() open for seconds.
        server.closeAllConnections();
      }),
  };
}

async function respond(request: IncomingMessage, response: ServerResponse, metrics: PrometheusMetrics): Promise<void> {
  // The raw request target, query dropped: no URL parsing that could throw on odd input.
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') return send(response, 404, 'text/plain; charset=utf-8', '404 page not found\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  }
  try {
    const body = await metrics.exposition();
    send(response, 200, metrics.contentType, request.method === 'HEAD' ? '' : body);
  } catch (error) {
    send(response, 500, 'text/plain; charset=utf-8', `cannot collect metrics: ${(error as Error).message}\n`);
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(body);
}

/** The host part of the URL: `localhost` for every interface, as Litestream prints it. */
function displayHost(host: string | undefined): string {
  if (host === undefined || host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function listenError(addr: string, error: NodeJS.ErrnoException): LitestreamError {
  const reason =
    error.code === 'EADDRINUSE'
      ? 'the address is already in use (is another litestream running?)'
      : error.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
          ? 'no such local address'
          : error.message;
  return new LitestreamError(`cannot start metrics server on ${addr}: ${reason}`, { cause: error });
}
