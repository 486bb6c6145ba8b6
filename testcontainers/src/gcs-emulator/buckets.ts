import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid } from './errors.ts';
import { originOf, parseJsonObject, readBody, sendJson } from './http-util.ts';
import { bucketResource } from './resources.ts';
import type { ObjectStore } from './store.ts';

/** `buckets.insert`: `POST /storage/v1/b?project=P` with `{"name": …}`. */
export async function insertBucket(store: ObjectStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const resource = parseJsonObject(await readBody(req, 1024 * 1024));
  if (typeof resource.name !== 'string' || resource.name === '') throw invalid('Required', 'required');
  sendJson(res, 200, bucketResource(store.createBucket(resource.name), originOf(req)));
}

/** `buckets.get`. */
export function getBucket(store: ObjectStore, req: IncomingMessage, res: ServerResponse, name: string): void {
  sendJson(res, 200, bucketResource(store.bucket(name), originOf(req)));
}

/** `buckets.list` (every bucket; the project is not checked). */
export function listBuckets(store: ObjectStore, req: IncomingMessage, res: ServerResponse): void {
  const origin = originOf(req);
  const buckets = store.listBuckets();
  sendJson(res, 200, { kind: 'storage#buckets', ...(buckets.length === 0 ? {} : { items: buckets.map((b) => bucketResource(b, origin)) }) });
}

/** `buckets.delete`: only an empty bucket. */
export async function deleteBucket(store: ObjectStore, res: ServerResponse, name: string): Promise<void> {
  await store.deleteBucket(name);
  res.writeHead(204).end();
}
