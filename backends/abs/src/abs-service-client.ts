import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, newPipeline, type StorageRetryOptions } from '@azure/storage-blob';
import type { AbsCredentialChoice, AbsReplicaClientOptions, AbsSettings } from './abs-settings.ts';

/** Attempts per request unless `maxTries` says otherwise. */
export const DEFAULT_MAX_TRIES = 5;
const DEFAULT_RETRY_DELAY_MS = 1000;
const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

/** A `BlobServiceClient` for the settings and credential, with this package's retry policy. */
export function createBlobService(settings: AbsSettings, choice: AbsCredentialChoice, options: AbsReplicaClientOptions): BlobServiceClient {
  const retryOptions: StorageRetryOptions = {
    maxTries: options.maxTries ?? DEFAULT_MAX_TRIES,
    retryDelayInMs: options.retryDelayInMs ?? DEFAULT_RETRY_DELAY_MS,
    maxRetryDelayInMs: options.maxRetryDelayInMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
  };
  const userAgentOptions = { userAgentPrefix: 'litestream-ts' };
  if ('sasToken' in choice) {
    // A SAS travels in each request's query string; the SDK keeps it when deriving blob URLs.
    const pipeline = newPipeline(new AnonymousCredential(), { retryOptions, userAgentOptions });
    return new BlobServiceClient(`${settings.endpoint}?${choice.sasToken}`, pipeline);
  }
  const credential: StorageSharedKeyCredential | TokenCredential =
    'accountKey' in choice ? new StorageSharedKeyCredential(settings.account, choice.accountKey) : (options.credential ?? new DefaultAzureCredential());
  return new BlobServiceClient(settings.endpoint, newPipeline(credential, { retryOptions, userAgentOptions }));
}
