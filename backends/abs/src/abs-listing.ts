import type { BlobItem, ContainerClient } from '@azure/storage-blob';
import { parseLtxFilename, type ListLtxOptions, type LtxFileInfo } from '@litestream-ts/core';
import { TIMESTAMP_METADATA_KEY, parseLtxTimestamp } from './ltx-timestamp.ts';

/** Blob names under a prefix, page by page (flat listing, metadata included). */
export async function* listBlobs(container: ContainerClient, prefix: string, pageSize: number | undefined, abortSignal?: AbortSignal): AsyncGenerator<BlobItem> {
  const pages = container.listBlobsFlat({ prefix, includeMetadata: true, abortSignal }).byPage(pageSize === undefined ? {} : { maxPageSize: pageSize });
  for await (const page of pages) yield* page.segment.blobItems;
}

/**
 * The LTX files under one level prefix. Blob listings come back in name order, and fixed-width
 * hex names sort by minTXID then maxTXID, so files are yielded as they arrive. Azure returns
 * metadata with the listing at no extra cost, so the LTX timestamp is always used when present
 * (as Litestream does), whatever `useMetadata` says.
 */
export async function* listLevel(blobs: AsyncIterable<BlobItem>, level: number, prefix: string, options: ListLtxOptions): AsyncGenerator<LtxFileInfo> {
  for await (const item of blobs) {
    const name = item.name.slice(prefix.length);
    const txids = name.includes('/') ? undefined : parseLtxFilename(name);
    if (txids === undefined) continue;
    if (options.seek !== undefined && txids.minTXID < options.seek) continue;
    yield { level, ...txids, size: item.properties.contentLength ?? 0, createdAt: createdAt(item) };
  }
}

function createdAt(item: BlobItem): Date {
  const stamp = item.metadata?.[TIMESTAMP_METADATA_KEY];
  return (stamp === undefined ? undefined : parseLtxTimestamp(stamp)) ?? item.properties.createdOn ?? item.properties.lastModified;
}
