import type { ProviderPreset } from './provider-preset.ts';

/**
 * MinIO and other self-hosted servers: a host named `minio` (`minio.example.com`,
 * `s3.minio.internal`), or any endpoint with an explicit port that no other provider claims
 * (`localhost:9000`, `10.0.0.5:9000`). The table consults it last for that reason.
 */
export const minio: ProviderPreset = {
  id: 'minio',
  name: 'MinIO',
  endpointHost: /(^|\.)minio(\.|:|$)|:\d+$/,
  // `bucket.host:port`: a self-hosted server named in the URL (no `.com`, as Litestream reads it).
  bucketHost: /^(?!\d+\.\d+\.\d+\.\d+:)(?<bucket>[^.:]+)\.(?<endpoint>(?:(?!\.com\b)[^:])+:\d+)$/,
  defaultRegion: 'us-east-1',
  signPayload: true,
  forcePathStyle: true,
  note: 'path-style, signed payload; also any endpoint with a port (self-hosted)',
};
