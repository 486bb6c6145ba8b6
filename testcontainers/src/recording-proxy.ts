import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './ports.ts';
import { forwardHttp } from './http-forward.ts';

/** One request as the proxy received it from the client under test. */
export interface RecordedRequest {
  readonly method: string;
  /** The path as sent (still percent-encoded), without the query. */
  readonly path: string;
  /** Query parameters (e.g. `uploadId`, `partNumber`); a bare `?uploads` maps to `''`. */
  readonly query: Readonly<Record<string, string>>;
  /** Request headers with lower-case names; a repeated header is joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Status the server answered with; undefined until the answer arrives (or if it never did). */
  readonly status: number | undefined;
}

/** A recording HTTP reverse proxy in front of one upstream server. */
export interface RecordingProxy {
  /** `http://127.0.0.1:PORT`: point clients here instead of at the upstream. */
  readonly url: string;
  readonly port: number;
  /** Requests received so far, oldest first. */
  requests(): readonly RecordedRequest[];
  /** Forgets the requests recorded so far. */
  clearRequests(): void;
  close(): Promise<void>;
}

// Enough for any test; a runaway loop should not grow the test process without bound.
const RECORD_LIMIT = 100_000;

/**
 * Starts a reverse proxy on a free loopback port that forwards every request to `upstream`
 * (an `http://host:port` URL) and records method, path, query and headers. Bodies stream
 * through in both directions, never buffered; `Expect: 100-continue` is passed on, so a server
 * that rejects a request early (e.g. a failed `If-None-Match`) does so before the body is sent.
 */
export async function startRecordingProxy(upstream: string): Promise<RecordingProxy> {
  const target = new URL(upstream);
  if (target.protocol !== 'http:') throw new Error(`recording proxy: only http upstreams are supported, got ${upstream}`);
  const agent = new Agent({ keepAlive: true });
  let records: RecordedRequest[] = [];

  const forward = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const record = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      status: undefined as number | undefined,
    };
    records.push(record);
    if (records.length > RECORD_LIMIT) records = records.slice(-RECORD_LIMIT / 2);

    forwardHttp(req, res, {
      target,
      agent,
      expectsContinue,
      onResponse: (upstreamRes) => {
        record.status = upstreamRes.statusCode;
      },
    });
  };

  const server = createServer({ keepAliveTimeout: 5000 });
  server.on('request', (req, res) => forward(req, res, false));
  // Without this listener Node answers `100 Continue` itself, before the upstream has decided.
  server.on('checkContinue', (req, res) => forward(req, res, true));
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests: () => records.slice(),
    clearRequests: () => {
      records = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
