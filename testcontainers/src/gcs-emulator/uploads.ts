import { Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid } from './errors.ts';
import { customMetadataOf, originOf, parseJsonObject, preconditionsOf, readBody, sendJson } from './http-util.ts';
import { boundaryOf, parseMultipart } from './multipart.ts';
import { objectResource } from './resources.ts';
import type { ResumableSessions } from './resumable.ts';
import type { ObjectStore } from './store.ts';

// Simple and multipart uploads are for small objects (Google recommends resumable above 5 MB for
// reliability); multipart bodies are buffered here, so they are capped.
const MULTIPART_LIMIT = 64 * 1024 * 1024;
const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** `POST /upload/storage/v1/b/BUCKET/o?uploadType=media|multipart|resumable`. */
export async function insertObject(
  store: ObjectStore,
  sessions: ResumableSessions,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  query: URLSearchParams,
): Promise<void> {
  const uploadType = query.get('uploadType');
  const pre = preconditionsOf(query);
  store.bucket(bucket); // 404 before reading a body for a bucket that does not exist
  if (uploadType === 'media') {
    const name = requireName(query.get('name'));
    store.checkWrite(bucket, name, pre);
    const staged = await store.stage(req);
    const object = store.commit(bucket, name, staged, { contentType: req.headers['content-type'] || DEFAULT_CONTENT_TYPE, metadata: undefined }, pre);
    sendJson(res, 200, objectResource(object, originOf(req)));
    return;
  }
  if (uploadType === 'multipart') {
    const parts = parseMultipart(await readBody(req, MULTIPART_LIMIT), boundaryOf(req.headers['content-type']));
    if (parts.length !== 2) throw invalid(`Multipart upload must have 2 parts (metadata, media), got ${parts.length}`);
    const resource = parseJsonObject(parts[0]!.body);
    const name = requireName(query.get('name') ?? (typeof resource.name === 'string' ? resource.name : null));
    store.checkWrite(bucket, name, pre);
    const staged = await store.stage(Readable.from([parts[1]!.body]));
    const contentType = typeof resource.contentType === 'string' ? resource.contentType : parts[1]!.headers['content-type'] || DEFAULT_CONTENT_TYPE;
    const object = store.commit(bucket, name, staged, { contentType, metadata: customMetadataOf(resource) }, pre);
    sendJson(res, 200, objectResource(object, originOf(req)));
    return;
  }
  if (uploadType === 'resumable') {
    const resource = parseJsonObject(await readBody(req, 1024 * 1024));
    const name = requireName(query.get('name') ?? (typeof resource.name === 'string' ? resource.name : null));
    // Google evaluates preconditions when the session starts as well as when it completes.
    store.checkWrite(bucket, name, pre);
    const header = req.headers['x-upload-content-type'];
    const contentType = typeof resource.contentType === 'string' ? resource.contentType : typeof header === 'string' && header ? header : DEFAULT_CONTENT_TYPE;
    const id = sessions.start({ bucket, name, contentType, metadata: customMetadataOf(resource), pre });
    const location = `${originOf(req)}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    res.writeHead(200, { location, 'content-length': '0' }).end();
    return;
  }
  throw invalid(`Invalid upload type: ${uploadType ?? '(none)'}`);
}

function requireName(name: string | null): string {
  if (name === null || name === '') throw invalid('Required', 'required');
  if (Buffer.byteLength(name) > 1024) throw invalid('The maximum object length is 1024 characters, but got a name with more');
  return name;
}
