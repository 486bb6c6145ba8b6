import { UsageError } from '@litestream-ts/core';
import type { GcsReplicaClientOptions } from './gcs-settings.ts';
import { parseGcsUrl } from './gcs-url.ts';

type Config = Readonly<Record<string, unknown>>;

/**
 * Config keys of a `type: gs` replica: Litestream v0.5's `bucket` and `path`, plus `endpoint`
 * (ours; Litestream reads only `STORAGE_EMULATOR_HOST`). Credentials come from the environment.
 */
export const GCS_CONFIG_KEYS: readonly string[] = ['bucket', 'path', 'endpoint'];

// What a top-level (global) entry may give every replica: where the data lives is per replica.
const GLOBAL_KEYS: readonly string[] = ['endpoint'];

/**
 * Options from a replica config entry (`bucket`/`path`, or `url`). `url` together with `bucket`
 * or `path` is refused, as Litestream does. Globals fill only what the entry leaves unset.
 */
export function gcsOptionsFromConfig(config: Config, globals: Config = {}): { options: GcsReplicaClientOptions; ignored: readonly string[] } {
  const url = text(config, 'url');
  if (url !== undefined && text(config, 'path') !== undefined) throw new UsageError('cannot specify url & path for gs replica');
  if (url !== undefined && text(config, 'bucket') !== undefined) throw new UsageError('cannot specify url & bucket for gs replica');
  const fromUrl = url === undefined ? undefined : parseGcsUrl(url);
  const bucket = fromUrl?.options.bucket ?? text(config, 'bucket');
  if (bucket === undefined) throw new UsageError('bucket required for gs replica');
  const endpoint = text(config, 'endpoint') ?? fromUrl?.options.endpoint ?? GLOBAL_KEYS.map((k) => text(globals, k)).find((v) => v !== undefined);
  const path = fromUrl?.options.path ?? text(config, 'path') ?? '';
  return { options: { bucket, path, ...(endpoint === undefined ? {} : { endpoint }) }, ignored: fromUrl?.ignored ?? [] };
}

function text(config: Config, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  throw new UsageError(`gs "${key}" must be text, got ${Array.isArray(value) ? 'a list' : typeof value}`);
}
