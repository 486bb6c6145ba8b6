/** `@litestream-ts/backend-s3`: replicate to Amazon S3 and S3-compatible object stores. */
export { S3ReplicaClient } from './s3-replica-client.ts';
export { s3Backend, registerS3Backend } from './s3-backend.ts';
export { s3BackendInfo, lazyS3Backend } from './plugin.ts';
export { resolveS3Settings, withScheme, type S3ReplicaClientOptions, type S3Settings, type S3Operation, type OperationHook } from './s3-settings.ts';
export { parseS3Url, type ParsedS3Url } from './s3-url.ts';
export { s3OptionsFromConfig, S3_CONFIG_KEYS } from './s3-config.ts';
export { S3KeyLayout } from './s3-key-layout.ts';
export { parsePartSize, MIN_PART_SIZE, MAX_PART_SIZE, DEFAULT_PART_SIZE, DEFAULT_CONCURRENCY } from './part-size.ts';
export { chooseCredentials, MissingCredentialsError, type CredentialSource, type CredentialChoice, type Environment } from './credentials.ts';
export { S3RequestError, DeleteFailedError, DeleteNotPerformedError } from './s3-errors.ts';
export { TIMESTAMP_METADATA_KEY, formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';
export { MAX_KEYS_PER_DELETE } from './s3-deletes.ts';
export { PROVIDER_PRESETS, detectProvider, splitBucketHost, type DetectedProvider, type BucketHost } from './providers/provider-table.ts';
export type { ProviderPreset } from './providers/provider-preset.ts';
export { S3_PROVIDER_PROBES, addressingStyleProbe, awsChunkedProbe, multipartMinPartProbe, payloadSigningProbe } from './provider-probes.ts';
