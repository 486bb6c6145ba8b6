import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import type { S3Bucket } from './s3-bucket.ts';
import { DeleteFailedError, DeleteNotPerformedError } from './s3-errors.ts';

/** DeleteObjects takes at most this many keys a request. */
export const MAX_KEYS_PER_DELETE = 1000;

/**
 * Deletes keys in batches of 1000. Keys the store reports as failed surface together as a
 * `DeleteFailedError` naming each key and code. With `verify`, the keys are then listed again:
 * a store that answered "deleted" but kept them (Cloudflare R2 has done this) fails with
 * `DeleteNotPerformedError` instead of leaking files silently.
 */
export async function deleteKeys(bucket: S3Bucket, keys: readonly string[], verify: boolean): Promise<void> {
  const unique = [...new Set(keys)].sort();
  const failures: { key: string; code: string; message: string }[] = [];
  for (let at = 0; at < unique.length; at += MAX_KEYS_PER_DELETE) {
    const batch = unique.slice(at, at + MAX_KEYS_PER_DELETE);
    let out;
    try {
      out = await bucket.send('DELETE', () =>
        bucket.s3.send(new DeleteObjectsCommand({ Bucket: bucket.name, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
    } catch (error) {
      throw bucket.wrap(error, `DeleteObjects (${batch.length} keys)`, batch[0]);
    }
    for (const e of out.Errors ?? []) failures.push({ key: e.Key ?? '(unknown key)', code: e.Code ?? 'UnknownError', message: e.Message ?? '' });
  }
  if (failures.length > 0) throw new DeleteFailedError(failures);
  if (verify) await verifyDeleted(bucket, unique);
}

/** Lists the span of each directory the keys were in and fails if any of them is still there. */
async function verifyDeleted(bucket: S3Bucket, sortedKeys: readonly string[]): Promise<void> {
  const byDirectory = new Map<string, string[]>();
  for (const key of sortedKeys) {
    const directory = key.slice(0, key.lastIndexOf('/') + 1);
    const group = byDirectory.get(directory);
    if (group) group.push(key);
    else byDirectory.set(directory, [key]);
  }
  const survivors: string[] = [];
  for (const [directory, group] of byDirectory) {
    const wanted = new Set(group);
    const last = group[group.length - 1]!;
    // Start just before the first deleted key (drop its last character) and stop after the last.
    for await (const object of bucket.list(directory, { startAfter: group[0]!.slice(0, -1), delimiter: '/' })) {
      const key = object.Key ?? '';
      if (key > last) break;
      if (wanted.has(key)) survivors.push(key);
    }
  }
  if (survivors.length > 0) throw new DeleteNotPerformedError(survivors);
}
