/**
 * The Litestream replica keys of each first-party backend package, so that a key whose backend
 * is not installed can be answered with the package to install. Data only: nothing here imports
 * a backend (the installed ones describe their own keys through the registry).
 */
const KEYS_BY_PACKAGE: Readonly<Record<string, readonly string[]>> = {
  '@litestream-ts/backend-s3': [
    'bucket', 'region', 'endpoint', 'access-key-id', 'secret-access-key', 'force-path-style', 'sign-payload',
    'require-content-md5', 'skip-verify', 'part-size', 'concurrency', 'storage-class',
    'sse-customer-algorithm', 'sse-customer-key', 'sse-customer-key-path', 'sse-kms-key-id',
  ],
  '@litestream-ts/backend-gcs': ['bucket', 'endpoint'],
  '@litestream-ts/backend-abs': ['bucket', 'endpoint', 'account-name', 'account-key', 'sas-token'],
  '@litestream-ts/backend-nats': [
    'bucket', 'jwt', 'seed', 'creds', 'nkey', 'username', 'password', 'token', 'tls', 'root-cas', 'client-cert', 'client-key',
    'max-reconnects', 'reconnect-wait', 'timeout',
  ],
  '@litestream-ts/backend-sftp': ['host', 'user', 'password', 'key-path', 'host-key', 'concurrent-writes'],
  '@litestream-ts/backend-webdav': ['webdav-url', 'webdav-username', 'webdav-password'],
};

/** The first-party packages whose backend accepts `key`, in a stable order. */
export function packagesOfKey(key: string): string[] {
  return Object.entries(KEYS_BY_PACKAGE)
    .filter(([, keys]) => keys.includes(key))
    .map(([name]) => name);
}
