import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { once } from 'node:events';
import { Crc32c } from './crc32c.ts';
import { GcsApiError, invalid } from './errors.ts';
import { originOf, sendJson } from './http-util.ts';
import { objectResource } from './resources.ts';
import type { ObjectStore, Preconditions, StoredObject } from './store.ts';

/** What the initiating request fixed for the object. */
export interface SessionSpec {
  readonly bucket: string;
  readonly name: string;
  readonly contentType: string;
  readonly metadata: Record<string, string> | undefined;
  readonly pre: Preconditions;
}

interface Session extends SessionSpec {
  readonly path: string;
  received: number;
  readonly md5: Hash;
  readonly crc: Crc32c;
  state: 'open' | 'busy' | 'done' | 'failed' | 'cancelled';
  object?: StoredObject;
  error?: GcsApiError;
}

/** A parsed `Content-Range` of a resumable PUT. */
type ContentRange =
  | { kind: 'status'; total: number | undefined }
  | { kind: 'data'; start: number; end: number | undefined; total: number | undefined };

/**
 * Resumable upload sessions: bytes are appended to a staging file as chunks arrive; the object
 * appears (preconditions checked again) only when the last byte is in.
 */
export class ResumableSessions {
  private readonly store: ObjectStore;
  private readonly sessions = new Map<string, Session>();

  constructor(store: ObjectStore) {
    this.store = store;
  }

  /** Opens a session and returns its `upload_id`. */
  start(spec: SessionSpec): string {
    const id = randomUUID().replaceAll('-', '');
    this.sessions.set(id, { ...spec, path: join(this.store.dir, `${id}.upload`), received: 0, md5: createHash('md5'), crc: new Crc32c(), state: 'open' });
    return id;
  }

  /** A PUT (or POST) to a session URI: a chunk, a status query, or the final chunk. */
  async put(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) throw new GcsApiError(404, 'notFound', 'No such upload session');
    if (session.state !== 'open') {
      req.resume();
      if (session.state === 'done') return sendJson(res, 200, objectResource(session.object!, originOf(req)));
      if (session.state === 'failed') throw session.error!;
      if (session.state === 'cancelled') throw new GcsApiError(499, 'clientClosedRequest', 'The upload session was cancelled');
      throw new GcsApiError(503, 'backendError', 'Another request for this upload session is in progress');
    }
    const range = parseContentRange(req.headers['content-range']);
    session.state = 'busy';
    try {
      let final: boolean;
      if (range.kind === 'status') {
        req.resume();
        if (range.total !== undefined && range.total < session.received) throw invalid(`Content-Range total ${range.total} is below the ${session.received} bytes already received`);
        final = range.total === session.received;
      } else {
        if (range.start > session.received) {
          throw invalid(`The upload offset is ${range.start} byte(s), which exceeds the ${session.received} byte(s) already received`);
        }
        if (session.received === 0) await writeFile(session.path, new Uint8Array());
        await append(session, req, session.received - range.start);
        if (range.total !== undefined && session.received > range.total) throw invalid(`Received ${session.received} bytes, more than the declared total ${range.total}`);
        // `bytes N-*/*` (what the Node SDK sends for a stream of unknown length): the rest is in this request.
        final = range.total !== undefined ? session.received === range.total : range.end === undefined;
      }
      if (!final) {
        session.state = 'open';
        const headers: Record<string, string> = { 'content-length': '0' };
        // Google leaves Range out until it has received a byte.
        if (session.received > 0) headers.range = `bytes=0-${session.received - 1}`;
        res.writeHead(308, headers).end();
        return;
      }
      if (session.received === 0) await writeFile(session.path, new Uint8Array());
      const object = this.store.commit(
        session.bucket,
        session.name,
        { path: session.path, size: session.received, md5Hash: session.md5.copy().digest('base64'), crc32c: session.crc.base64() },
        { contentType: session.contentType, metadata: session.metadata },
        session.pre,
      );
      session.state = 'done';
      session.object = object;
      sendJson(res, 200, objectResource(object, originOf(req)));
    } catch (err) {
      if (session.state === 'busy') {
        if (err instanceof GcsApiError && err.status === 412) {
          // A failed final precondition ends the session, as on Google.
          session.state = 'failed';
          session.error = err;
          void rm(session.path, { force: true });
        } else {
          session.state = 'open';
        }
      }
      throw err;
    }
  }

  /** DELETE on a session URI: cancels it (Google answers 499). */
  cancel(res: ServerResponse, id: string): void {
    const session = this.sessions.get(id);
    if (!session) throw new GcsApiError(404, 'notFound', 'No such upload session');
    if (session.state === 'open') {
      session.state = 'cancelled';
      void rm(session.path, { force: true });
    }
    res.writeHead(499, { 'content-length': '0' }).end();
  }
}

/** Appends a request body to the session file, skipping `skip` bytes the session already holds. */
async function append(session: Session, req: IncomingMessage, skip: number): Promise<void> {
  const out = createWriteStream(session.path, { flags: 'a' });
  let toSkip = skip;
  try {
    for await (const raw of req as AsyncIterable<Buffer>) {
      let chunk = raw;
      if (toSkip > 0) {
        const dropped = Math.min(toSkip, chunk.byteLength);
        chunk = chunk.subarray(dropped);
        toSkip -= dropped;
      }
      if (chunk.byteLength === 0) continue;
      session.md5.update(chunk);
      session.crc.update(chunk);
      session.received += chunk.byteLength;
      if (!out.write(chunk)) await once(out, 'drain');
    }
  } finally {
    // Bytes that arrived before an interrupted request stay, as Google keeps what it persisted.
    out.end();
    await once(out, 'close');
  }
}

function parseContentRange(header: string | undefined): ContentRange {
  // No Content-Range: the request carries the whole object.
  if (header === undefined) return { kind: 'data', start: 0, end: undefined, total: undefined };
  const status = /^bytes \*\/(\d+|\*)$/.exec(header.trim());
  if (status) return { kind: 'status', total: status[1] === '*' ? undefined : Number(status[1]) };
  const data = /^bytes (\d+)-(\d+|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!data) throw invalid(`Invalid Content-Range header: ${header}`);
  const start = Number(data[1]);
  const end = data[2] === '*' ? undefined : Number(data[2]);
  if (end !== undefined && end < start) throw invalid(`Invalid Content-Range header: ${header}`);
  return { kind: 'data', start, end, total: data[3] === '*' ? undefined : Number(data[3]) };
}
