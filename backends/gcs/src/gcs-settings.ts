import { UsageError, checkEndpointURL, type StorageTimeouts } from '@litestream-ts/core';
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
  const local = /^(localhost|127\.|\[::1\]|0\.0\.0\.0)/i.test(trimmed);
  const url = /^https?:\/\//i.test(trimmed) ? trimmed : `${local ? 'http' : 'https'}://${trimmed}`;
  checkEndpointURL(url, 'gs');
  return url;
}
