import { BackendRegistry } from '@litestream-ts/core';
import lazyAbsBackend from '@litestream-ts/backend-abs/plugin';
import lazyFileBackend from '@litestream-ts/backend-file/plugin';
import lazyGcsBackend from '@litestream-ts/backend-gcs/plugin';
import lazyNatsBackend from '@litestream-ts/backend-nats/plugin';
import lazyS3Backend from '@litestream-ts/backend-s3/plugin';
import lazySftpBackend from '@litestream-ts/backend-sftp/plugin';
import lazyWebdavBackend from '@litestream-ts/backend-webdav/plugin';

/**
 * Every backend the `litestream` command ships. The CLI is the only place that knows them
 * all; core and the backends never import one another.
 *
 * Each is registered lazily, from its package's `/plugin` module: the registry knows its type,
 * schemes, config keys and URL check, and imports the backend (and its SDK) only when a
 * replica of that scheme or type is built. A `file://` replica never loads the AWS, Azure,
 * Google, NATS, SSH or WebDAV libraries.
 */
export function createBackendRegistry(): BackendRegistry {
  return new BackendRegistry()
    .registerLazy(lazyFileBackend)
    .registerLazy(lazyS3Backend)
    .registerLazy(lazyAbsBackend)
    .registerLazy(lazyNatsBackend)
    .registerLazy(lazyGcsBackend)
    .registerLazy(lazySftpBackend)
    .registerLazy(lazyWebdavBackend);
}
