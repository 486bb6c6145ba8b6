import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { StorageTimeouts } from '@litestream-ts/core';
import type { GcsReplicaClientOptions, GcsSettings } from './gcs-settings.ts';

/** The SDK client for these settings. */
export function createStorage(settings: GcsSettings, options: GcsReplicaClientOptions, timeouts: StorageTimeouts = {}): Storage {
  const storageOptions: StorageOptions = {};
  // Each request of the JSON API fails after this long without a byte (a socket inactivity
  // timeout, reset by every chunk received), so none is left behind by an abandoned call.
  if (timeouts.requestTimeout) storageOptions.timeout = timeouts.requestTimeout;
  if (settings.endpoint !== undefined) {
    // With a custom endpoint the SDK sends no Authorization header unless told to.
    storageOptions.apiEndpoint = settings.endpoint;
    storageOptions.projectId = options.projectId ?? 'litestream';
  } else {
    if (options.keyFilename) storageOptions.keyFilename = options.keyFilename;
    if (options.projectId) storageOptions.projectId = options.projectId;
  }
  if (options.retry === false) storageOptions.retryOptions = { autoRetry: false };
  else if (options.retry) {
    storageOptions.retryOptions = {
      // The SDK reads 0 as "use the default"; so a caller wanting no retries passes `retry: false`.
      ...(options.retry.maxRetries === undefined ? {} : { maxRetries: options.retry.maxRetries }),
      ...(options.retry.totalTimeoutSeconds === undefined ? {} : { totalTimeout: options.retry.totalTimeoutSeconds }),
    };
  }
  // The SDK reads STORAGE_EMULATOR_HOST itself and then uses it verbatim as its JSON API base URL
  // (no scheme added, no /storage/v1), overriding apiEndpoint. The endpoint resolved above already
  // accounts for it, so the SDK is built without seeing it (the constructor is synchronous).
  const emulatorHost = process.env.STORAGE_EMULATOR_HOST;
  if (emulatorHost === undefined) return new Storage(storageOptions);
  delete process.env.STORAGE_EMULATOR_HOST;
  try {
    return new Storage(storageOptions);
  } finally {
    process.env.STORAGE_EMULATOR_HOST = emulatorHost;
  }
}
