/**
 * `@litestream-ts/backend-s3/plugin`: the s3 backend as a host needs it before
 * any replica is built — its config type, URL scheme, config keys and URL check — plus a lazy
 * registry entry that imports the backend itself (and the AWS SDK) on first use. Importing
 * this module loads no SDK.
 *
 * ```ts
 * import { BackendRegistry } from '@litestream-ts/core';
 * import lazyS3Backend from '@litestream-ts/backend-s3/plugin';
 * const registry = new BackendRegistry().registerLazy(lazyS3Backend);
 * ```
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { S3_CONFIG_KEYS } from './s3-config.ts';
import { checkS3Config, checkS3Url, locateS3Replica } from './s3-location.ts';

/** The static facts of the s3 backend (`s3Backend` is these plus its factories). */
export const s3BackendInfo: BackendInfo = {
  type: 's3',
  schemes: ['s3', 'oss'],
  aliases: ['oss'],
  configKeys: Object.keys(S3_CONFIG_KEYS),
  description: 'Amazon S3 and S3-compatible stores (s3://bucket/path; B2, R2, MinIO, Tigris, Spaces, …; Alibaba Cloud OSS as oss://bucket/path)',
  checkURL: checkS3Url,
  checkConfig: checkS3Config,
  locate: locateS3Replica,
};

/** The s3 backend as a lazy registry entry: `load()` imports `@litestream-ts/backend-s3`'s plugin. */
export const lazyS3Backend: LazyBackendPlugin = {
  ...s3BackendInfo,
  module: '@litestream-ts/backend-s3',
  load: async () => (await import('./s3-backend.ts')).s3Backend,
};

export default lazyS3Backend;
