import type { Bucket } from '@google-cloud/storage';
import type { ListLtxOptions, LtxFileInfo } from '@litestream-ts/core';
import type { GcsLayout } from './gcs-layout.ts';
import { TIMESTAMP_METADATA_KEY, parseLtxTimestamp } from './ltx-timestamp.ts';

/** The fields of the JSON API's object resource this backend reads. */
export interface ObjectResource {
  readonly name?: string;
  readonly size?: string | number;
  readonly generation?: string | number;
  readonly timeCreated?: string;
  readonly updated?: string;
  readonly metadata?: Readonly<Record<string, string | null>> | null;
}

interface ListResponse {
  readonly items?: readonly ObjectResource[];
  readonly nextPageToken?: string;
}

/** Objects under a prefix, a page (up to 1,000) at a time, in name order. */
export async function* listObjects(
  bucket: Bucket,
  query: { prefix: string; delimiter?: string; startOffset?: string },
): AsyncGenerator<ObjectResource> {
  let pageToken: string | undefined;
  do {
    const [, , response] = await bucket.getFiles({ ...query, autoPaginate: false, maxResults: 1000, ...(pageToken === undefined ? {} : { pageToken }) });
    const page = (response ?? {}) as ListResponse;
    yield* page.items ?? [];
    pageToken = page.nextPageToken || undefined;
  } while (pageToken !== undefined);
}

/**
 * One level's LTX files. GCS listings carry custom metadata at no extra cost, so `createdAt` is
 * the stored LTX timestamp whenever there is one (as Litestream does; `useMetadata` changes
 * nothing), else the object's creation time. A seek starts the listing at `startOffset`.
 */
export async function* listLevel(bucket: Bucket, layout: GcsLayout, level: number, options: ListLtxOptions): AsyncGenerator<LtxFileInfo> {
  const query = { prefix: layout.levelPrefix(level), ...(options.seek === undefined ? {} : { startOffset: layout.seekOffset(level, options.seek) }) };
  for await (const object of listObjects(bucket, query)) {
    const range = object.name === undefined ? undefined : layout.parseLtxKey(level, object.name);
    if (!range || (options.seek !== undefined && range.minTXID < options.seek)) continue;
    yield { level, ...range, size: Number(object.size ?? 0), createdAt: createdAtOf(object) };
  }
}

function createdAtOf(object: ObjectResource): Date {
  const stored = object.metadata?.[TIMESTAMP_METADATA_KEY];
  const fromMetadata = typeof stored === 'string' ? parseLtxTimestamp(stored) : undefined;
  if (fromMetadata) return fromMetadata;
  const created = new Date(object.timeCreated ?? object.updated ?? Number.NaN);
  return Number.isFinite(created.getTime()) ? created : new Date(0);
}
