import { UsageError } from '@litestream-ts/core';
import type { AbsReplicaClientOptions } from './abs-settings.ts';
import { parseAbsUrl } from './abs-url.ts';

type Config = Readonly<Record<string, unknown>>;
type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** Config keys and the option each sets, as Litestream v0.5 names them (`bucket` is the container). */
export const ABS_CONFIG_KEYS = {
  bucket: 'container',
  path: 'path',
  'account-name': 'accountName',
  'account-key': 'accountKey',
  'sas-token': 'sasToken',
  endpoint: 'endpoint',
} as const satisfies Record<string, keyof AbsReplicaClientOptions>;

// Keys a top-level (global) config entry gives every abs replica, as Litestream merges them.
const GLOBAL_KEYS = ['account-name', 'account-key', 'sas-token'] as const;

/**
 * Options from a replica config entry (`type: abs` with `bucket`/`path`/…, or `url` plus
 * settings). Entry keys win over the URL's parts; globals fill only what is still unset.
 * `url` together with `bucket` or `path` is refused, as Litestream does.
 */
export function absOptionsFromConfig(config: Config, globals: Config = {}): { options: AbsReplicaClientOptions; ignored: readonly string[] } {
  const url = text(config, 'url');
  if (url !== undefined && text(config, 'bucket') !== undefined) throw new UsageError('abs replica has both "url" and "bucket"; set the container in one place');
  if (url !== undefined && text(config, 'path') !== undefined) throw new UsageError('abs replica has both "url" and "path"; set the path in one place');
  const parsed = url === undefined ? undefined : parseAbsUrl(url);
  const options: Writable<AbsReplicaClientOptions> = { container: '', ...parsed?.options };
  for (const key of GLOBAL_KEYS) {
    const value = text(globals, key);
    if (value !== undefined) options[ABS_CONFIG_KEYS[key]] = value;
  }
  if (parsed?.options.accountName !== undefined) options.accountName = parsed.options.accountName;
  for (const [key, option] of Object.entries(ABS_CONFIG_KEYS)) {
    const value = text(config, key);
    if (value !== undefined) options[option] = value;
  }
  if (options.container === '') throw new UsageError('abs replica needs a container: "bucket" or url abs://CONTAINER/PATH');
  return { options, ignored: parsed?.ignored ?? [] };
}

function text(config: Config, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UsageError(`abs "${key}" must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
}
