import { Readable } from 'node:stream';
import type { StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { TIMESTAMP_METADATA_KEY, formatLtxTimestamp } from './ltx-timestamp.ts';
import type { S3Bucket } from './s3-bucket.ts';

export interface UploadOptions {
  readonly partSize: number;
  readonly concurrency: number;
  readonly storageClass: string | undefined;
  /** Stored as `litestream-timestamp` metadata when known. */
  readonly timestamp: Date | undefined;
  /** Abandons the upload (a multipart upload is aborted, nothing is published). */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Streams one LTX file to `key` with lib-storage's `Upload`: a single PutObject when it fits in
 * one part, otherwise a multipart upload with `concurrency` parts in flight, so memory stays
 * near part size × concurrency. Parts are buffers, so each is signed with its body hash and
 * never sent aws-chunked. A failing source aborts the multipart upload and rejects with the
 * source's own error; nothing is published under the key. Resolves to the bytes written.
 */
export async function uploadLtx(bucket: S3Bucket, key: string, data: AsyncIterable<Uint8Array>, options: UploadOptions): Promise<number> {
  let size = 0;
  let sourceError: unknown;
  async function* counted(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of data) {
        size += chunk.byteLength;
        yield chunk;
      }
    } catch (error) {
      sourceError = error;
      throw error;
    }
  }
  const upload = new Upload({
    client: bucket.s3,
    params: {
      Bucket: bucket.name,
      Key: key,
      Body: Readable.from(counted(), { objectMode: false }),
      ...(options.timestamp ? { Metadata: { [TIMESTAMP_METADATA_KEY]: formatLtxTimestamp(options.timestamp) } } : {}),
      ...(options.storageClass ? { StorageClass: options.storageClass as StorageClass } : {}),
      ...bucket.encryption.write,
    },
    partSize: options.partSize,
    queueSize: options.concurrency,
    leavePartsOnError: false,
  });
  const abandon = () => void upload.abort().catch(() => {});
  if (options.signal?.aborted) abandon();
  else options.signal?.addEventListener('abort', abandon, { once: true });
  try {
    await bucket.send('PUT', () => upload.done(), () => size);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (sourceError !== undefined) throw sourceError;
    throw bucket.wrap(error, 'PutObject', key);
  } finally {
    options.signal?.removeEventListener('abort', abandon);
  }
  return size;
}
