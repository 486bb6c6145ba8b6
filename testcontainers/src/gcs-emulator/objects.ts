import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GcsApiError } from './errors.ts';
import { generationOf, originOf, preconditionsOf, sendJson } from './http-util.ts';
import { listPage, parseListQuery } from './listing.ts';
import { etagOf, objectResource } from './resources.ts';
import type { ObjectStore, StoredObject } from './store.ts';

/** `objects.get`: the resource, or with `alt=media` the bytes (ranged with a `Range` header). */
export function getObject(store: ObjectStore, req: IncomingMessage, res: ServerResponse, bucket: string, name: string, query: URLSearchParams): void {
  const object = store.get(bucket, name, generationOf(query), preconditionsOf(query));
  if (query.get('alt') !== 'media') {
    sendJson(res, 200, objectResource(object, originOf(req)), { etag: etagOf(object) });
    return;
  }
  sendMedia(req, res, object);
}

/** `objects.list`. */
export function listObjects(store: ObjectStore, req: IncomingMessage, res: ServerResponse, bucket: string, query: URLSearchParams): void {
  const page = listPage(store.bucket(bucket), parseListQuery(query));
  const origin = originOf(req);
  sendJson(res, 200, {
    kind: 'storage#objects',
    ...(page.nextPageToken === undefined ? {} : { nextPageToken: page.nextPageToken }),
    ...(page.prefixes.length === 0 ? {} : { prefixes: page.prefixes }),
    ...(page.items.length === 0 ? {} : { items: page.items.map((o) => objectResource(o, origin)) }),
  });
}

/** `objects.delete`: 204, or 404 for a missing object, 412 for a failed precondition. */
export function deleteObject(store: ObjectStore, res: ServerResponse, bucket: string, name: string, query: URLSearchParams): void {
  store.delete(bucket, name, generationOf(query), preconditionsOf(query));
  res.writeHead(204).end();
}

function sendMedia(req: IncomingMessage, res: ServerResponse, object: StoredObject): void {
  const headers: Record<string, string> = {
    'content-type': object.contentType,
    etag: etagOf(object),
    'last-modified': object.timeCreated.toUTCString(),
    'accept-ranges': 'bytes',
    'x-goog-generation': object.generation,
    'x-goog-metageneration': object.metageneration,
    'x-goog-stored-content-encoding': 'identity',
    'x-goog-stored-content-length': String(object.size),
    // The whole object's hashes, also on partial responses (clients skip validation for ranges).
    'x-goog-hash': `crc32c=${object.crc32c},md5=${object.md5Hash}`,
  };
  const range = parseRange(req.headers.range, object.size);
  if (range === 'unsatisfiable') {
    throw new GcsApiError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');
  }
  const [start, end] = range ?? [0, object.size - 1];
  const length = end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
  headers['content-length'] = String(length);
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const body = createReadStream(object.path, { start, end });
  body.once('error', () => res.destroy());
  body.pipe(res);
}

/**
 * One `bytes=` range (RFC 9110): `a-b`, `a-` or `-n`, with `b` clamped to the end. Returns
 * undefined for no header, a malformed one or several ranges (all served as the whole object).
 */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? undefined : Number(match[2]);
  if (end !== undefined && end < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  if (end === undefined) return [start, size - 1];
  return [start, Math.min(end, size - 1)];
}
