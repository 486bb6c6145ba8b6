import { Storage, type StorageOptions } from '@google-cloud/storage';
import { UsageError, type StorageTimeouts } from '@litestream-ts/core';
import { normalizePath } from './gcs-layout.ts';

/**
 * Options of a `GcsReplicaClient`. `requestTimeout` also becomes the SDK's per-request timeout,
 * which counts inactivity (connecting included); the SDK has no separate connect timeout, so
 * `connectTimeout` is not enforced apart from it.
 */
export interface GcsReplicaClientOptions extends StorageTimeouts {
  readonly bucket: string;
  /** Path inside the bucket (Litestream's `path`); '' is the bucket root. */
  readonly path?: string;
  /**
   * A custom JSON API endpoint (an emulator such as fake-gcs-server). Requests to it carry no
   * credentials. Default: `STORAGE_EMULATOR_HOST`, else Google's endpoint.
   */
  readonly endpoint?: string;
  /** A service-account key file; default Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud, metadata server). */
  readonly keyFilename?: string;
  readonly projectId?: string;
  /**
   * The SDK's retries of transient failures (default: its own, 3 retries within 600 s).
   * `false` turns them off.
   */
  readonly retry?: false | { readonly maxRetries?: number; readonly totalTimeoutSeconds?: number };
  /** Parallel requests of a batch delete (default 16). */
  readonly deleteConcurrency?: number;
  /** Environment to read `STORAGE_EMULATOR_HOST` from (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The settings in force, for logs and tests. */
export interface GcsSettings {
  readonly bucket: string;
  readonly path: string;
  /** The custom endpoint, or undefined for Google's. */
  readonly endpoint: string | undefined;
  /** `adc`, `key-file` or `anonymous` (custom endpoint): never the credentials themselves. */
  readonly credentials: 'adc' | 'key-file' | 'anonymous';
}

// Google's rules: 3-63 characters (up to 222 with dots), lower-case letters, digits, -, _ and .
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** Validates options and fills defaults. */
export function resolveGcsSettings(options: GcsReplicaClientOptions): GcsSettings {
  if (!options.bucket) throw new UsageError('bucket required for gs replica');
  if (!BUCKET.test(options.bucket)) throw new UsageError(`invalid GCS bucket name ${JSON.stringify(options.bucket)}: use 3-63 lower-case letters, digits, "-", "_" or "."`);
  const env = options.env ?? process.env;
  const raw = options.endpoint ?? (env.STORAGE_EMULATOR_HOST || undefined);
  const endpoint = raw === undefined ? undefined : normalizeEndpoint(raw);
  return {
    bucket: options.bucket,
    path: normalizePath(options.path ?? ''),
    endpoint,
    credentials: endpoint !== undefined ? 'anonymous' : options.keyFilename ? 'key-file' : 'adc',
  };
}

/** `host:port` → `http://host:port` for loopback emulators, `https://` otherwise; no trailing slash. */
export function normalizeEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  if (/^https?:\/\//i.test(trimmed)) return trimmed;
  const local = /^(localhost|127\.|\[::1\]|0\.0\.0\.0)/i.test(trimmed);
  return `${local ? 'http' : 'https'}://${trimmed}`;
}

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
