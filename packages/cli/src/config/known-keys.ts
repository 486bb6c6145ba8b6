// The keys of Litestream v0.5's config, by section. The one litestream-ts refuses is `age`,
// which Litestream v0.5 refuses too.
import type { UnsupportedKey } from './yaml-nodes.ts';

/**
 * Engine settings of a replica that Litestream also accepts at the top level as the default
 * of every replica (besides `sync-interval` and `validation-interval`, which core knows).
 */
export const REPLICA_ENGINE_KEYS: readonly string[] = ['max-sync-ltx-files', 'auto-recover'];

/** Top-level keys besides the backend settings shared by all replicas. */
export const TOP_LEVEL_KEYS: readonly string[] = [
  'dbs',
  'addr',
  'exec',
  'levels',
  'snapshot',
  'l0-retention',
  'logging',
  'retention',
  'shutdown-sync-timeout',
  'shutdown-sync-interval',
  'sync-interval',
  'validation-interval',
  'connect-timeout',
  'request-timeout',
  // litestream-ts: backend plugin modules to load (see plugins-section.ts).
  'plugins',
  'socket',
  'heartbeat-url',
  'heartbeat-interval',
  'mcp-addr',
  'validation',
  'l0-retention-check-interval',
  'verify-compaction',
  ...REPLICA_ENGINE_KEYS,
];

/** Replica settings Litestream refuses (and so do we), at the top level and in each replica. */
const REFUSED_REPLICA_KEYS: Readonly<Record<string, UnsupportedKey>> = {
  age: { action: 'error', reason: 'age encryption is not available in Litestream v0.5 either; remove the "age" section' },
};

export const TOP_LEVEL_UNSUPPORTED: Readonly<Record<string, UnsupportedKey>> = REFUSED_REPLICA_KEYS;

/** `validation: {interval}`. */
export const VALIDATION_KEYS: readonly string[] = ['interval'];

export const SOCKET_KEYS: readonly string[] = ['enabled', 'path', 'permissions'];
export const SNAPSHOT_KEYS: readonly string[] = ['interval', 'retention'];
export const LEASE_KEYS: readonly string[] = ['ttl'];
export const LEVEL_KEYS: readonly string[] = ['interval'];
export const RETENTION_KEYS: readonly string[] = ['enabled'];
export const LOGGING_KEYS: readonly string[] = ['level', 'type', 'stderr', 'source'];

export const DATABASE_KEYS: readonly string[] = [
  'path',
  'dir',
  'pattern',
  'recursive',
  'watch',
  'meta-dir',
  'meta-path',
  'monitor-interval',
  'checkpoint-interval',
  'busy-timeout',
  'min-checkpoint-page-count',
  'truncate-page-n',
  'max-sync-wal-bytes',
  'restore-if-db-not-exists',
  'lease',
  'snapshot',
  'replica',
  'replicas',
];

export const DATABASE_UNSUPPORTED: Readonly<Record<string, UnsupportedKey>> = {};

export const REPLICA_UNSUPPORTED: Readonly<Record<string, UnsupportedKey>> = REFUSED_REPLICA_KEYS;

/** Backend settings of Litestream v0.5's replicas, to explain keys whose backend is not installed. */
export const LITESTREAM_BACKEND_KEYS: ReadonlySet<string> = new Set([
  // S3 and S3-compatible
  'access-key-id', 'secret-access-key', 'region', 'bucket', 'endpoint', 'force-path-style', 'sign-payload',
  'require-content-md5', 'skip-verify', 'storage-class', 'part-size', 'concurrency',
  'sse-customer-algorithm', 'sse-customer-key', 'sse-customer-key-path', 'sse-kms-key-id',
  // Azure Blob Storage
  'account-name', 'account-key', 'sas-token',
  // SFTP
  'host', 'user', 'password', 'key-path', 'concurrent-writes', 'host-key',
  // WebDAV
  'webdav-url', 'webdav-username', 'webdav-password',
  // NATS
  'jwt', 'seed', 'creds', 'nkey', 'username', 'token', 'tls', 'root-cas', 'client-cert', 'client-key',
  'max-reconnects', 'reconnect-wait', 'timeout',
]);

/** Backend settings whose values are durations in Go syntax: checked here, passed on as written. */
export const DURATION_SETTINGS: ReadonlySet<string> = new Set(['reconnect-wait', 'timeout']);

/** Backend settings whose values are byte sizes: checked and converted to a number of bytes. */
export const SIZE_SETTINGS: ReadonlySet<string> = new Set(['part-size']);
