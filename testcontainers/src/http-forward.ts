import { request as httpRequest, type Agent, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

// Hop-by-hop headers describe this connection, not the request; the rest is forwarded verbatim,
// Host included, because SigV4 signs the Host the client saw.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade']);

/** How {@link forwardHttp} sends one request on and hands back the answer. */
export interface ForwardOptions {
  /** The upstream server (`http://host:port`). */
  readonly target: URL;
  readonly agent: Agent;
  /** The client sent `Expect: 100-continue`: the upstream, not the proxy, decides whether the body may come. */
  readonly expectsContinue: boolean;
  /** Where the request body goes on its way upstream (e.g. a throttle); default: straight through. */
  readonly requestBody?: Duplex;
  /**
   * The upstream's answer arrived. Return true when the caller answers the client itself;
   * otherwise status, headers and body are passed on (through `responseBody` when given).
   */
  readonly onResponse?: (upstreamRes: IncomingMessage, res: ServerResponse) => boolean | void;
  readonly responseBody?: Duplex;
  /** The upstream could not be reached or failed before answering. Default: a 502 naming the error. */
  readonly onUpstreamError?: (err: Error, res: ServerResponse) => void;
}

/**
 * Forwards one request received by a `node:http` server to the upstream and streams the answer
 * back: bodies are never buffered, hop-by-hop headers are dropped, `Expect: 100-continue` is
 * passed on. Returns the upstream request (to destroy it when the client goes away early).
 */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): ClientRequest {
  const upstreamReq = httpRequest({
    host: options.target.hostname,
    port: options.target.port,
    method: req.method,
    path: req.url,
    headers: withoutHopByHop(req.rawHeaders),
    agent: options.agent,
  });
  if (options.expectsContinue) upstreamReq.once('continue', () => res.writeContinue());
  upstreamReq.once('response', (upstreamRes) => {
    upstreamRes.once('error', () => res.destroy());
    if (options.onResponse?.(upstreamRes, res) === true) return;
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, withoutHopByHop(upstreamRes.rawHeaders));
    if (options.responseBody) upstreamRes.pipe(options.responseBody).pipe(res);
    else upstreamRes.pipe(res);
  });
  upstreamReq.once('error', (err) => {
    if (options.onUpstreamError) options.onUpstreamError(err, res);
    else if (res.headersSent) res.destroy();
    else res.writeHead(502, { 'content-type': 'text/plain' }).end(`proxy: upstream ${options.target.origin} failed: ${err.message}`);
  });
  // A client that got its answer early (e.g. 412 before 100-continue) never sends the body;
  // the upstream request must not wait for it forever.
  res.once('close', () => {
    if (!req.complete || !res.writableFinished) upstreamReq.destroy();
  });
  req.once('error', () => upstreamReq.destroy());
  if (options.requestBody) req.pipe(options.requestBody).pipe(upstreamReq);
  else req.pipe(upstreamReq);
  return upstreamReq;
}

/** Raw `[name, value, name, value, …]` headers less the hop-by-hop ones. */
export function withoutHopByHop(rawHeaders: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i]!.toLowerCase())) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return kept;
}
