import { UsageError, type StorageTimeouts } from '@litestream-ts/core';

/**
 * Options of a {@link NatsReplicaClient}; config keys map onto these (see `NATS_CONFIG_KEYS`).
 * `connectTimeout` and `requestTimeout` override `timeoutMs` (Litestream's `timeout`) for the
 * connection and for JetStream requests respectively.
 */
export interface NatsReplicaClientOptions extends StorageTimeouts {
  /** Object store bucket; created (file storage, one replica) when missing. */
  readonly bucket: string;
  /** Server URL(s) without credentials, comma-separated (default `nats://127.0.0.1:4222`). */
  readonly server?: string | undefined;
  /** Optional prefix inside the bucket; empty (the default) is Litestream's layout. */
  readonly path?: string | undefined;
  /** User JWT; used together with `seed`. */
  readonly jwt?: string | undefined;
  /** NKey seed (`SU…`) that signs the server nonce for `jwt`. */
  readonly seed?: string | undefined;
  /** Path of a `.creds` file (JWT and seed). */
  readonly creds?: string | undefined;
  /** NKey seed (`SU…`), or the path of a file holding one. */
  readonly nkey?: string | undefined;
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly token?: string | undefined;
  /** Require TLS (also implied by `root-cas` or a client certificate). */
  readonly tls?: boolean | undefined;
  /** PEM files of CAs to trust instead of the system's. */
  readonly rootCAs?: readonly string[] | undefined;
  readonly clientCert?: string | undefined;
  readonly clientKey?: string | undefined;
  /** Reconnect attempts after a lost connection; -1 (default) never gives up. */
  readonly maxReconnects?: number | undefined;
  /** Pause between reconnect attempts, in ms (default 500). */
  readonly reconnectWaitMs?: number | undefined;
  /** Connect and request timeout, in ms (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** Create the bucket when it does not exist (default true). */
  readonly createBucket?: boolean | undefined;
  /** Where warnings go (for example about ignored settings). */
  readonly warn?: ((message: string) => void) | undefined;
}

/** The settings in force after defaults and checks. Never printed whole: it holds secrets. */
export interface NatsSettings extends Required<Pick<NatsReplicaClientOptions, 'bucket'>> {
  readonly servers: readonly string[];
  /** Cleaned prefix without leading or trailing `/`; '' for none. */
  readonly path: string;
  readonly auth: NatsAuth;
  readonly tls: { readonly rootCAs: readonly string[]; readonly clientCert?: string | undefined; readonly clientKey?: string | undefined } | undefined;
  readonly maxReconnects: number;
  readonly reconnectWaitMs: number;
  /** JetStream request timeout (each API request, each chunk's publish acknowledgement). */
  readonly timeoutMs: number;
  /** How long connecting (TCP, TLS and the NATS handshake) may take. */
  readonly connectTimeoutMs: number;
  readonly createBucket: boolean;
}

/** Which credentials are used, in Litestream's order of precedence. */
export type NatsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'jwt'; readonly jwt: string; readonly seed: string }
  | { readonly kind: 'creds'; readonly file: string }
  | { readonly kind: 'nkey'; readonly nkey: string }
  | { readonly kind: 'userpass'; readonly username: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string };

export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';
export const DEFAULT_RECONNECT_WAIT_MS = 500;
export const DEFAULT_TIMEOUT_MS = 10_000;

// JetStream object store bucket names (ADR-20): letters, digits, `-` and `_`.
const BUCKET = /^[-\w]+$/;

/** Checks options and fills defaults. Throws `UsageError` naming the setting at fault. */
export function resolveNatsSettings(options: NatsReplicaClientOptions): NatsSettings {
  if (!options.bucket) throw new UsageError('nats replica needs a bucket (nats://host:port/BUCKET or the "bucket" key)');
  if (!BUCKET.test(options.bucket)) throw new UsageError(`nats bucket ${JSON.stringify(options.bucket)} is not a valid object store name (letters, digits, "-" and "_")`);
  if ((options.clientCert ? 1 : 0) + (options.clientKey ? 1 : 0) === 1) {
    throw new UsageError('client-cert and client-key must both be specified for mutual TLS authentication');
  }
  const servers = (options.server || DEFAULT_SERVER).split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const server of servers) {
    if (/^[a-z]+:\/\/[^/]*@/i.test(server)) throw new UsageError('nats server URLs must not carry credentials; use username/password, token or the URL form nats://user:pass@host/bucket');
  }
  const rootCAs = options.rootCAs ?? [];
  const tlsWanted = options.tls === true || rootCAs.length > 0 || options.clientCert !== undefined || servers.some((s) => s.startsWith('tls://'));
  return {
    bucket: options.bucket,
    servers,
    path: (options.path ?? '').split('/').filter((p) => p !== '' && p !== '.').join('/'),
    auth: chooseAuth(options),
    tls: tlsWanted ? { rootCAs, clientCert: options.clientCert, clientKey: options.clientKey } : undefined,
    maxReconnects: integer('max-reconnects', options.maxReconnects ?? -1, -1),
    reconnectWaitMs: integer('reconnect-wait', options.reconnectWaitMs ?? DEFAULT_RECONNECT_WAIT_MS, 0),
    timeoutMs: integer('timeout', positive(options.requestTimeout) ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1),
    connectTimeoutMs: integer('timeout', positive(options.connectTimeout) ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 1),
    createBucket: options.createBucket ?? true,
  };
}

function chooseAuth(o: NatsReplicaClientOptions): NatsAuth {
  // The same precedence as Litestream's NATS client: jwt+seed, creds, nkey, user+password, token.
  if (o.jwt && o.seed) return { kind: 'jwt', jwt: o.jwt, seed: o.seed };
  if (o.jwt || o.seed) throw new UsageError('nats "jwt" and "seed" must be given together');
  if (o.creds) return { kind: 'creds', file: o.creds };
  if (o.nkey) return { kind: 'nkey', nkey: o.nkey };
  if (o.username && o.password) return { kind: 'userpass', username: o.username, password: o.password };
  if (o.token) return { kind: 'token', token: o.token };
  return { kind: 'none' };
}

/** A timeout of 0 means "none" elsewhere; nats.js needs one, so 0 falls back to `timeout`. */
function positive(value: number | undefined): number | undefined {
  return value === undefined || value <= 0 ? undefined : Math.ceil(value);
}

function integer(key: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`nats "${key}" must be an integer >= ${min}, got ${value}`);
  return value;
}

/** The secret strings of a set of options, so messages can be scrubbed of them. */
export function secretsOf(o: NatsReplicaClientOptions): string[] {
  return [o.password, o.token, o.seed, o.jwt, o.nkey?.startsWith('S') ? o.nkey : undefined].filter((s): s is string => typeof s === 'string' && s.length >= 3);
}
