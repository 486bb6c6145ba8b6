import type { ContainerClient } from '@azure/storage-blob';
import { isBlobNotFound } from './abs-errors.ts';

/**
 * Deletes blobs a few at a time; missing ones are ignored. Parallel single deletes rather than
 * Blob Batch: batches need extra permissions with SAS tokens and are not served by every emulator.
 * Rejects with the first failure after every started delete has settled.
 */
export async function deleteBlobs(container: ContainerClient, names: readonly string[], concurrency: number, wrap: (error: unknown, name: string) => Error, abortSignal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: Error | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < names.length && !abortSignal?.aborted) {
      const name = names[next++]!;
      try {
        await container.getBlobClient(name).delete({ abortSignal });
      } catch (error) {
        if (!isBlobNotFound(error)) failure ??= wrap(error, name);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  if (failure !== undefined) throw failure;
}
