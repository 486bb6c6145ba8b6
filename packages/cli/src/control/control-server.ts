import { chmod, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@litestream-ts/core';
import { CliError } from '../cli-error.ts';
import { ControlError } from './control-error.ts';
import type { ErrorResponse, RegisterRequest, StartStopRequest, SyncRequest, UnregisterRequest } from './protocol.ts';
import type { ReplicationControl } from './replication-control.ts';
import { clearStaleSocket, inUse } from './socket-file.ts';

/** Where and how the control socket is served. */
export interface ControlServerOptions {
  readonly path: string;
  /** File mode of the socket (0o600: only its owner may connect). */
  readonly permissions: number;
  readonly logger: Logger;
}

/** Largest request body accepted (requests are a path and a URL). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The HTTP control API of `replicate` on a Unix socket. It is bound first thing, before any
 * database is opened, so a second `replicate` on the same socket is refused at once; requests
 * that arrive before `serve()` hands it the running databases are answered 503.
 */
export class ControlServer {
  private readonly options: ControlServerOptions;
  private readonly server: Server;
  private control: ReplicationControl | undefined;
  private ino: number | undefined;

  private constructor(options: ControlServerOptions) {
    this.options = options;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Binds the socket with its mode (never more open than asked, not even for a moment). */
  static async open(options: ControlServerOptions): Promise<ControlServer> {
    const control = new ControlServer(options);
    await clearStaleSocket(options.path);
    await control.listen();
    options.logger.info('control socket listening', { path: options.path });
    return control;
  }

  private async listen(): Promise<void> {
    const { path, permissions } = this.options;
    // bind() reports a missing directory as EACCES: say what is wrong.
    const parent = await stat(dirname(path)).catch(() => undefined);
    if (!parent?.isDirectory()) throw new CliError(`cannot serve the control socket ${path} (socket.path): no such directory ${dirname(path)}`);
    await new Promise<void>((resolve, reject) => {
      const failed = (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') reject(inUse(path));
        else reject(new CliError(`cannot serve the control socket ${path} (socket.path): ${err.code === 'EACCES' ? 'permission denied' : err.message}`));
      };
      this.server.once('error', failed);
      // The socket file is created by bind(), inside listen(), with the mode the umask leaves:
      // set it to what is asked for just around that call, so no one can connect in between.
      const umask = process.umask(0o777 & ~permissions);
      try {
        this.server.listen(path, () => {
          this.server.off('error', failed);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    });
    await chmod(path, permissions);
    this.ino = (await stat(path)).ino;
  }

  /** Starts answering commands with `control`. */
  serve(control: ReplicationControl): void {
    this.control = control;
  }

  /**
   * Stops serving: open connections are closed, starts and stops already asked for are let
   * finish (so a database being stopped gets its final sync), and the socket file is removed
   * (if still ours).
   */
  async close(): Promise<void> {
    const control = this.control;
    this.control = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    await control?.settled();
    const current = await stat(this.options.path).catch(() => undefined);
    if (current && current.ino === this.ino) await unlink(this.options.path).catch(() => {});
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = req.method === 'POST' ? await readJSON(req) : {};
      const control = this.control;
      if (!control) throw new ControlError(503, 'litestream replicate is still starting (opening its databases); try again shortly');
      send(res, 200, await route(control, `${req.method ?? 'GET'} ${url.pathname}`, url.searchParams, body));
    } catch (err) {
      if (err instanceof ControlError) {
        send(res, err.status, { error: err.message, ...(err.knownDatabases ? { known_databases: err.knownDatabases } : {}) } satisfies ErrorResponse);
      } else {
        this.options.logger.error('control request failed', { url: req.url, error: (err as Error).message });
        send(res, 500, { error: (err as Error).message } satisfies ErrorResponse);
      }
    }
  }
}

/** Calls the operation an endpoint stands for. */
async function route(control: ReplicationControl, endpoint: string, query: URLSearchParams, body: Record<string, unknown>): Promise<unknown> {
  switch (endpoint) {
    case 'GET /list':
      return control.list();
    case 'GET /info': {
      const path = query.get('path');
      return path ? control.info(path) : control.daemonInfo();
    }
    case 'GET /txid':
      return { txid: control.txid(requiredQuery(query, 'path')) };
    case 'POST /sync': {
      const r = body as Partial<SyncRequest>;
      return control.sync(requiredText(r.path, 'path'), r.wait === true, timeoutOf(r.timeout));
    }
    case 'POST /start': {
      const r = body as Partial<StartStopRequest>;
      return control.start(requiredText(r.path, 'path'), timeoutOf(r.timeout));
    }
    case 'POST /stop': {
      const r = body as Partial<StartStopRequest>;
      return control.stop(requiredText(r.path, 'path'), timeoutOf(r.timeout));
    }
    case 'POST /register': {
      const r = body as Partial<RegisterRequest>;
      return control.register(requiredText(r.path, 'path'), requiredText(r.replica_url, 'replica_url'), timeoutOf(r.timeout));
    }
    case 'POST /unregister': {
      const r = body as Partial<UnregisterRequest>;
      return control.unregister(requiredText(r.path, 'path'), timeoutOf(r.timeout));
    }
    default:
      throw new ControlError(404, `no such endpoint: ${endpoint}`);
  }
}

function requiredText(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new ControlError(400, `${name} required`);
  return value;
}

function requiredQuery(query: URLSearchParams, name: string): string {
  return requiredText(query.get(name) ?? undefined, name);
}

/** A request's `timeout` (seconds, as in Litestream) in ms; absent or ≤ 0: the default. */
function timeoutOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ControlError(400, 'timeout must be a number of seconds');
  return value > 0 ? Math.round(value * 1000) : undefined;
}

async function readJSON(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ControlError(413, `request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ControlError(400, `invalid request body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ControlError(400, 'invalid request body: expected a JSON object');
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
