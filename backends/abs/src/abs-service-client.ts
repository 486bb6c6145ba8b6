import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { AnonymousCredential, BlobServiceClient, StorageSharedKeyCredential, newPipeline, type StoragePipelineOptions, type StorageRetryOptions } from '@azure/storage-blob';
import { connectTimeoutAgent, type StorageTimeouts } from '@litestream-ts/core';
import type { AbsCredentialChoice, AbsReplicaClientOptions, AbsSettings } from './abs-settings.ts';

/** Attempts per request unless `maxTries` says otherwise. */
export const DEFAULT_MAX_TRIES = 5;
const DEFAULT_RETRY_DELAY_MS = 1000;
const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

/**
 * A `BlobServiceClient` for the settings and credential, with this package's retry policy and
 * an agent that gives up connecting after the connect timeout (the SDK has none). The request
 * timeout is not the SDK's per-try `tryTimeoutInMs`, a deadline that would cut a slow but
 * moving block upload: `ReplicaClient` counts inactivity, and every call's abort signal ends
 * the request and its retries.
 */
export function createBlobService(settings: AbsSettings, choice: AbsCredentialChoice, options: AbsReplicaClientOptions, timeouts: Required<StorageTimeouts>): BlobServiceClient {
  const retryOptions: StorageRetryOptions = {
    maxTries: options.maxTries ?? DEFAULT_MAX_TRIES,
    retryDelayInMs: options.retryDelayInMs ?? DEFAULT_RETRY_DELAY_MS,
    maxRetryDelayInMs: options.maxRetryDelayInMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
  };
  const userAgentOptions = { userAgentPrefix: 'litestream-ts' };
  // Passed through to the core pipeline's agent policy, which the public options type omits.
  const pipelineOptions = { retryOptions, userAgentOptions, agent: connectTimeoutAgent(new URL(settings.endpoint).protocol, timeouts.connectTimeout) } as StoragePipelineOptions;
  if ('sasToken' in choice) {
    // A SAS travels in each request's query string; the SDK keeps it when deriving blob URLs.
    const pipeline = newPipeline(new AnonymousCredential(), pipelineOptions);
    return new BlobServiceClient(`${settings.endpoint}?${choice.sasToken}`, pipeline);
  }
  const credential: StorageSharedKeyCredential | TokenCredential =
    'accountKey' in choice ? new StorageSharedKeyCredential(settings.account, choice.accountKey) : (options.credential ?? new DefaultAzureCredential());
  return new BlobServiceClient(settings.endpoint, newPipeline(credential, pipelineOptions));
}
