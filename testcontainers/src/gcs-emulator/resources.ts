import type { Bucket, StoredObject } from './store.ts';

/** The JSON API's object resource for a stored object. */
export function objectResource(object: StoredObject, origin: string): Record<string, unknown> {
  const encoded = encodeURIComponent(object.name);
  const time = object.timeCreated.toISOString();
  return {
    kind: 'storage#object',
    id: `${object.bucket}/${object.name}/${object.generation}`,
    selfLink: `${origin}/storage/v1/b/${object.bucket}/o/${encoded}`,
    mediaLink: `${origin}/download/storage/v1/b/${object.bucket}/o/${encoded}?generation=${object.generation}&alt=media`,
    name: object.name,
    bucket: object.bucket,
    generation: object.generation,
    metageneration: object.metageneration,
    contentType: object.contentType,
    storageClass: 'STANDARD',
    size: String(object.size),
    md5Hash: object.md5Hash,
    crc32c: object.crc32c,
    etag: etagOf(object),
    timeCreated: time,
    updated: time,
    timeStorageClassUpdated: time,
    ...(object.metadata === undefined ? {} : { metadata: object.metadata }),
  };
}

/** The JSON API's bucket resource. */
export function bucketResource(bucket: Bucket, origin: string): Record<string, unknown> {
  const time = bucket.timeCreated.toISOString();
  return {
    kind: 'storage#bucket',
    id: bucket.name,
    selfLink: `${origin}/storage/v1/b/${bucket.name}`,
    name: bucket.name,
    projectNumber: '0',
    metageneration: '1',
    location: 'US',
    storageClass: 'STANDARD',
    etag: 'CAE=',
    timeCreated: time,
    updated: time,
  };
}

/** An opaque tag that changes with each generation (Google documents only that it changes). */
export function etagOf(object: StoredObject): string {
  return Buffer.from(`${object.generation}/${object.metageneration}`).toString('base64');
}
