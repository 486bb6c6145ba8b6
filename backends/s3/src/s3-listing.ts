import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { ListLtxOptions, LtxFileInfo } from '@litestream-ts/core';
import { TIMESTAMP_METADATA_KEY, parseLtxTimestamp } from './ltx-timestamp.ts';
import type { S3Bucket } from './s3-bucket.ts';
import { isNotFound } from './s3-errors.ts';

/** HEAD requests in flight while a listing reads timestamps from metadata. */
export const DEFAULT_METADATA_CONCURRENCY = 32;

/**
 * One level's LTX files in TXID order. Keys of fixed-width lower-case hex sort as their TXIDs,
 * and ListObjectsV2 returns keys in that order, so files stream page by page. With
 * `useMetadata`, each file's `litestream-timestamp` is read by HEAD through a bounded window
 * that still yields in order; otherwise `LastModified` is the time.
 */
export async function* listLevel(bucket: S3Bucket, level: number, options: ListLtxOptions, metadataConcurrency: number): AsyncGenerator<LtxFileInfo> {
  const seek = options.seek ?? 0;
  const files = wellFormed(bucket, level, seek);
  if (!options.useMetadata) {
    yield* files;
    return;
  }
  const window: Promise<Outcome>[] = [];
  const iterator = files[Symbol.asyncIterator]();
  let exhausted = false;
  const refill = async (): Promise<void> => {
    while (!exhausted && window.length < metadataConcurrency) {
      const next = await iterator.next();
      if (next.done) exhausted = true;
      else window.push(withMetadataTimestamp(bucket, next.value));
    }
  };
  try {
    await refill();
    while (window.length > 0) {
      const outcome = await window.shift()!;
      await refill();
      if (outcome.error !== undefined) throw outcome.error;
      if (outcome.info !== undefined) yield outcome.info;
    }
  } finally {
    // Settle what is in flight so an early exit leaves no unhandled rejection behind.
    await Promise.all(window);
    await iterator.return?.(undefined);
  }
}

async function* wellFormed(bucket: S3Bucket, level: number, seek: number): AsyncGenerator<LtxFileInfo> {
  const prefix = bucket.layout.levelPrefix(level);
  for await (const object of bucket.list(prefix, { startAfter: bucket.layout.seekStartAfter(level, seek) })) {
    const range = object.Key === undefined ? undefined : bucket.layout.parseLtxKey(level, object.Key);
    if (range === undefined || range.minTXID < seek) continue;
    yield { level, ...range, size: object.Size ?? 0, createdAt: object.LastModified ?? new Date(0) };
  }
}

/** A HEAD in the window; never rejects, so abandoned ones cannot go unhandled. */
interface Outcome {
  readonly info?: LtxFileInfo;
  readonly error?: unknown;
}

async function withMetadataTimestamp(bucket: S3Bucket, info: LtxFileInfo): Promise<Outcome> {
  const key = bucket.layout.ltxKey(info);
  try {
    const head = await bucket.send('GET', () => bucket.s3.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key, ...bucket.encryption.read })));
    const stamped = head.Metadata?.[TIMESTAMP_METADATA_KEY];
    const timestamp = stamped === undefined ? undefined : parseLtxTimestamp(stamped);
    return { info: timestamp === undefined ? info : { ...info, createdAt: timestamp } };
  } catch (error) {
    // Deleted between the listing and the HEAD (compaction, retention): no longer listed.
    if (isNotFound(error)) return {};
    return { error: bucket.wrap(error, 'HeadObject', key) };
  }
}
