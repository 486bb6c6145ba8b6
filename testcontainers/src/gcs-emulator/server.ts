import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteBucket, getBucket, insertBucket, listBuckets } from './buckets.ts';
import { GcsApiError, sendError } from './errors.ts';
import { deleteObject, getObject, listObjects } from './objects.ts';
import { ResumableSessions } from './resumable.ts';
import { NotModified, ObjectStore } from './store.ts';
import { insertObject } from './uploads.ts';

/** One request as the emulator received it. */
export interface GcsRecordedRequest {
  readonly method: string;
  /** Path as sent (still percent-encoded), without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Lower-case names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Status answered; undefined until the answer is sent. */
  readonly status: number | undefined;
}

/** A running emulator. */
export interface GcsEmulator {
  /** `http://127.0.0.1:PORT`: the SDK's `apiEndpoint` (or `STORAGE_EMULATOR_HOST`). */
  readonly endpoint: string;
  readonly port: number;
  /** Where object bodies live. */
  readonly dir: string;
  requests(): readonly GcsRecordedRequest[];
  clearRequests(): void;
  /** One line per request (method, path, status), for failure reports. */
  log(): string;
  /** Creates a bucket directly (no HTTP). */
  createBucket(name: string): void;
  stop(): Promise<void>;
}

export interface GcsEmulatorOptions {
  /** Directory for object bodies; default a new temp directory, removed on stop. */
  readonly dir?: string;
  /** Default 0 (a free port). */
  readonly port?: number;
}

const RECORD_LIMIT = 100_000;

/** Starts the GCS JSON API emulator on 127.0.0.1 (see README.md in this folder for its scope). */
export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'lts-gcs-emulator-')));
  const store = new ObjectStore(dir);
  const sessions = new ResumableSessions(store);
  let records: Array<{ -readonly [K in keyof GcsRecordedRequest]: GcsRecordedRequest[K] }> = [];

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const record = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers, status: undefined as number | undefined };
    records.push(record);
    if (records.length > RECORD_LIMIT) records = records.slice(-RECORD_LIMIT / 2);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    route(store, sessions, req, res, url).catch((err: unknown) => answerError(req, res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir,
    requests: () => records.slice(),
    clearRequests: () => {
      records = [];
    },
    log: () => records.map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''} -> ${r.status ?? '…'}`).join('\n'),
    createBucket: (name) => {
      store.createBucket(name);
    },
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

async function route(store: ObjectStore, sessions: ResumableSessions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const query = url.searchParams;
  // Object names arrive percent-encoded ("a%2Fb"), so the path is split before decoding.
  const raw = url.pathname;

  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o\/?$/.exec(raw);
  if (upload) {
    const bucket = decode(upload[1]!);
    const id = query.get('upload_id');
    if (id !== null) {
      if (method === 'PUT' || method === 'POST') return sessions.put(req, res, id);
      if (method === 'DELETE') return sessions.cancel(res, id);
    } else if (method === 'POST') {
      return insertObject(store, sessions, req, res, bucket, query);
    }
    throw methodNotAllowed(method);
  }

  // The JSON API under /storage/v1; the Node SDK drops that prefix when STORAGE_EMULATOR_HOST is
  // set, and mediaLink uses /download/storage/v1.
  const api = /^(?:\/download)?(?:\/storage\/v1)?(\/b(?:\/.*)?)$/.exec(raw)?.[1];
  if (api === undefined) throw new GcsApiError(404, 'notFound', `Not Found: ${raw}`);
  if (api === '/b' || api === '/b/') {
    if (method === 'POST') return insertBucket(store, req, res);
    if (method === 'GET') return listBuckets(store, req, res);
    throw methodNotAllowed(method);
  }
  const object = /^\/b\/([^/]+)\/o\/(.+)$/.exec(api);
  if (object) {
    const [bucket, name] = [decode(object[1]!), decode(object[2]!)];
    if (method === 'GET' || method === 'HEAD') return getObject(store, req, res, bucket, name, query);
    if (method === 'DELETE') return deleteObject(store, res, bucket, name, query);
    throw methodNotAllowed(method);
  }
  const objects = /^\/b\/([^/]+)\/o\/?$/.exec(api);
  if (objects) {
    if (method === 'GET') return listObjects(store, req, res, decode(objects[1]!), query);
    throw methodNotAllowed(method);
  }
  const bucket = /^\/b\/([^/]+)\/?$/.exec(api);
  if (bucket) {
    if (method === 'GET') return getBucket(store, req, res, decode(bucket[1]!));
    if (method === 'DELETE') return deleteBucket(store, res, decode(bucket[1]!));
    throw methodNotAllowed(method);
  }
  throw new GcsApiError(404, 'notFound', `Not Found: ${raw}`);
}

function answerError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  // Unread request bodies would otherwise stall a keep-alive connection.
  req.resume();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof NotModified) {
    res.writeHead(304).end();
    return;
  }
  const error = err instanceof GcsApiError ? err : new GcsApiError(500, 'backendError', `emulator error: ${(err as Error)?.message ?? String(err)}`);
  sendError(res, error, req.method === 'HEAD');
}

function methodNotAllowed(method: string): GcsApiError {
  return new GcsApiError(405, 'methodNotAllowed', `Method ${method} is not allowed here`);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GcsApiError(400, 'invalid', `Invalid percent-encoding in ${segment}`);
  }
}
