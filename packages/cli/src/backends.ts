import { BackendRegistry } from '@litestream-ts/core';
import { absBackend } from '@litestream-ts/backend-abs';
import { fileBackend } from '@litestream-ts/backend-file';
import { gcsBackend } from '@litestream-ts/backend-gcs';
import { natsBackend } from '@litestream-ts/backend-nats';
import { s3Backend } from '@litestream-ts/backend-s3';
import { sftpBackend } from '@litestream-ts/backend-sftp';

/**
 * Every backend the `litestream` command ships. The CLI is the only place that knows them
 * all; core and the backends never import one another.
 */
export function createBackendRegistry(): BackendRegistry {
  return new BackendRegistry().register(fileBackend).register(s3Backend).register(absBackend).register(natsBackend).register(gcsBackend).register(sftpBackend);
}
