import { fileURLToPath } from 'node:url';
import type { BackendRegistry } from '@litestream-ts/core';
import { discoverBackends } from '@litestream-ts/core/plugins';

/** The directory of the `@litestream-ts/conformance` package: backends installed beside it are found. */
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The backend registry the certification runs with, found as the `litestream` command finds
 * its own (`discoverBackends` from `@litestream-ts/core/plugins`): the installed
 * `@litestream-ts/backend-*`, `litestream-backend-*` and `@scope/litestream-backend-*` packages
 * resolvable from the current directory or beside this package (as `npx -p` installs them),
 * plus the modules named in `LITESTREAM_PLUGINS`.
 */
export function loadBackends(env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<BackendRegistry> {
  return discoverBackends({ cwd, env, beside: [PACKAGE_DIR] });
}
