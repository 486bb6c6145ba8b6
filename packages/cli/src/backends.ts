import { resolve } from 'node:path';
import type { BackendRegistry } from '@litestream-ts/core';
import { discoverBackends, type DiscoverOptions } from '@litestream-ts/core/plugins';

/** The directory of the `@litestream-ts/cli` package: backends installed beside it are found. */
export const CLI_PACKAGE_DIR = resolve(import.meta.dirname, '..');

/**
 * The backends a `litestream` run can use, found at run time (see `discoverBackends` in
 * `@litestream-ts/core/plugins`): the installed `@litestream-ts/backend-*`,
 * `litestream-backend-*` and `@scope/litestream-backend-*` packages resolvable from the
 * working directory or beside the CLI (and beside each `options.beside` directory, e.g. the
 * `litestream-ts` meta-package's), plus the modules named by the config's `plugins:` and by
 * `LITESTREAM_PLUGINS`.
 *
 * Each is registered lazily, from its package's `./plugin` module: the registry knows its type,
 * schemes, config keys and URL check, and imports the backend (and its SDK) only when a
 * replica of that scheme or type is built. A `file://` replica never loads the AWS, Azure,
 * Google, NATS, SSH or WebDAV libraries.
 */
export function createBackendRegistry(options: DiscoverOptions = {}): Promise<BackendRegistry> {
  return discoverBackends({ ...options, beside: [...(options.beside ?? []), CLI_PACKAGE_DIR] });
}
