/**
 * The backends litestream-ts publishes, by what they serve, so that a URL scheme or config type
 * no installed backend serves can be answered with the package to install. Data only: nothing
 * here imports a backend.
 */

/** A first-party backend package and what it serves. */
export interface FirstPartyBackend {
  /** npm package name, for example `@litestream-ts/backend-s3`. */
  readonly package: string;
  /** Config `type` values it serves. */
  readonly types: readonly string[];
  /** URL schemes it serves, without `:`. */
  readonly schemes: readonly string[];
}

/** Every first-party backend package (the file backend ships with `@litestream-ts/cli`). */
export const FIRST_PARTY_BACKENDS: readonly FirstPartyBackend[] = [
  { package: '@litestream-ts/backend-file', types: ['file'], schemes: ['file'] },
  // Alibaba OSS speaks the S3 protocol: the s3 backend serves it.
  { package: '@litestream-ts/backend-s3', types: ['s3', 'oss'], schemes: ['s3', 'oss'] },
  { package: '@litestream-ts/backend-gcs', types: ['gs'], schemes: ['gs'] },
  { package: '@litestream-ts/backend-abs', types: ['abs'], schemes: ['abs'] },
  { package: '@litestream-ts/backend-nats', types: ['nats'], schemes: ['nats'] },
  { package: '@litestream-ts/backend-sftp', types: ['sftp'], schemes: ['sftp'] },
  { package: '@litestream-ts/backend-webdav', types: ['webdav'], schemes: ['webdav', 'webdavs'] },
];

/** The first-party package that serves a URL scheme (without `:`, any case), if any. */
export function firstPartyForScheme(scheme: string): FirstPartyBackend | undefined {
  const wanted = scheme.toLowerCase();
  return FIRST_PARTY_BACKENDS.find((b) => b.schemes.includes(wanted));
}

/** The first-party package that serves a config `type`, if any. */
export function firstPartyForType(type: string): FirstPartyBackend | undefined {
  return FIRST_PARTY_BACKENDS.find((b) => b.types.includes(type));
}

/**
 * What to tell a user whose `what` (`s3://`, `replica type "abs"`) needs a first-party package:
 * `s3:// needs @litestream-ts/backend-s3: npm install @litestream-ts/backend-s3`. When that package
 * is installed but does not serve `what`, says to upgrade it instead.
 */
export function installHint(what: string, backend: FirstPartyBackend, installedModules: ReadonlySet<string>): string {
  if (installedModules.has(backend.package)) {
    return `${what} is served by ${backend.package}, but the installed version does not serve it: npm install ${backend.package}@latest`;
  }
  return `${what} needs ${backend.package}: npm install ${backend.package}`;
}
