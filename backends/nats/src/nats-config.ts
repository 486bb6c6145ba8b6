import { UsageError } from '@litestream-ts/core';
import { parseDuration } from './duration.ts';
import { parseNatsUrl } from './nats-url.ts';
import type { NatsReplicaClientOptions } from './nats-settings.ts';

type Config = Readonly<Record<string, unknown>>;
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Config keys and the option each sets, as Litestream v0.5 names them. */
export const NATS_CONFIG_KEYS = {
  bucket: 'bucket',
  path: 'path',
  jwt: 'jwt',
  seed: 'seed',
  creds: 'creds',
  nkey: 'nkey',
  username: 'username',
  password: 'password',
  token: 'token',
  tls: 'tls',
  'root-cas': 'rootCAs',
  'client-cert': 'clientCert',
  'client-key': 'clientKey',
  'max-reconnects': 'maxReconnects',
  'reconnect-wait': 'reconnectWaitMs',
  timeout: 'timeoutMs',
} as const satisfies Record<string, keyof NatsReplicaClientOptions>;

type ConfigKey = keyof typeof NATS_CONFIG_KEYS;

// Litestream lets a top-level entry give these to every replica; where the data lives stays per replica.
const GLOBAL_KEYS: readonly ConfigKey[] = [
  'jwt', 'seed', 'creds', 'nkey', 'username', 'password', 'token', 'tls', 'root-cas', 'client-cert', 'client-key', 'max-reconnects', 'reconnect-wait', 'timeout',
];

/**
 * Options from a replica config entry (`type: nats` with `url` and/or `bucket` plus settings).
 * As in Litestream, the URL's bucket wins over `bucket`; entry keys win over the URL's
 * user and password; globals fill only what the entry leaves unset.
 */
export function natsOptionsFromConfig(config: Config, globals: Config = {}): { options: NatsReplicaClientOptions; ignored: readonly string[] } {
  const url = text(config, 'url');
  const fromUrl = url === undefined ? undefined : parseNatsUrl(url);
  const options: Writable<NatsReplicaClientOptions> = {
    bucket: fromUrl?.bucket ?? '',
    server: fromUrl?.server,
    ...(fromUrl?.username === undefined ? {} : { username: fromUrl.username }),
    ...(fromUrl?.password === undefined ? {} : { password: fromUrl.password }),
  };
  const merged: Record<string, unknown> = {};
  for (const key of GLOBAL_KEYS) if (!isBlank(globals[key])) merged[key] = globals[key];
  for (const key of Object.keys(NATS_CONFIG_KEYS)) if (!isBlank(config[key])) merged[key] = config[key];
  if (fromUrl !== undefined) delete merged.bucket;

  const set = options as Record<string, unknown>;
  for (const [key, value] of Object.entries(merged) as [ConfigKey, unknown][]) {
    const option = NATS_CONFIG_KEYS[key];
    if (key === 'tls') set[option] = parseBoolean(key, value);
    else if (key === 'root-cas') set[option] = (Array.isArray(value) ? value : [value]).map((v) => textValue(key, v));
    else if (key === 'max-reconnects') set[option] = parseInteger(key, value);
    else if (key === 'reconnect-wait' || key === 'timeout') set[option] = parseDuration(key, value);
    else set[option] = textValue(key, value);
  }
  return { options, ignored: fromUrl?.ignored ?? [] };
}

/** Reads `true/false`, `1/0`, `yes/no`, `t/f` (any case) or a boolean. */
export function parseBoolean(key: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  // Only text and numbers can spell a boolean (String() of an object may even throw).
  const t = typeof value === 'string' ? value.trim().toLowerCase() : typeof value === 'number' ? String(value) : '';
  if (['true', '1', 'yes', 't', 'y', 'on'].includes(t)) return true;
  if (['false', '0', 'no', 'f', 'n', 'off'].includes(t)) return false;
  throw new UsageError(`nats "${key}" must be true or false, got ${JSON.stringify(value)}`);
}

function parseInteger(key: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`nats "${key}" must be an integer, got ${JSON.stringify(value)}`);
  return n;
}

function text(config: Config, key: string): string | undefined {
  return isBlank(config[key]) ? undefined : textValue(key, config[key]);
}

function textValue(key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`nats "${key}" must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}
