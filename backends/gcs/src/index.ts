/** `@litestream-ts/backend-gcs`: replicate to Google Cloud Storage (`gs://bucket/path`). */
export { GcsReplicaClient } from './gcs-replica-client.ts';
export { gcsBackend, registerGcsBackend } from './gcs-backend.ts';
export { gcsBackendInfo, lazyGcsBackend } from './plugin.ts';
export { resolveGcsSettings, normalizeEndpoint, type GcsReplicaClientOptions, type GcsSettings } from './gcs-settings.ts';
export { parseGcsUrl, type ParsedGcsUrl } from './gcs-url.ts';
export { gcsOptionsFromConfig, GCS_CONFIG_KEYS } from './gcs-config.ts';
export { GcsLayout, normalizePath } from './gcs-layout.ts';
export { GcsRequestError, BucketNotFoundError, GcsPermissionError, GcsCredentialsError } from './gcs-errors.ts';
export { TIMESTAMP_METADATA_KEY, formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';
