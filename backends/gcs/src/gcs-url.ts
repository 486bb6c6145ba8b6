import { UsageError, redactURL } from '@litestream-ts/core';
import { normalizePath } from './gcs-layout.ts';
import type { GcsReplicaClientOptions } from './gcs-settings.ts';

/** What a replica URL says; `ignored` lists query parameters this backend does not know. */
export interface ParsedGcsUrl {
  readonly options: GcsReplicaClientOptions;
  readonly ignored: readonly string[];
}

/**
 * Parses `gs://BUCKET/PATH` (Litestream's form). `?endpoint=HOST:PORT` is our addition, for
 * emulators; Litestream itself takes the endpoint only from `STORAGE_EMULATOR_HOST`.
 */
export function parseGcsUrl(input: string): ParsedGcsUrl {
  const text = input.trim();
  if (!/^gs:\/\//i.test(text)) throw new UsageError(`not a gs:// URL: ${JSON.stringify(redactURL(text))}`);
  const queryAt = text.indexOf('?');
  const rest = (queryAt === -1 ? text : text.slice(0, queryAt)).slice('gs://'.length).replace(/#.*$/, '');
  const query = new URLSearchParams(queryAt === -1 ? '' : text.slice(queryAt + 1));
  const slash = rest.indexOf('/');
  const host = slash === -1 ? rest : rest.slice(0, slash);
  if (host.includes('@')) throw new UsageError('gs replica URLs take no credentials: use GOOGLE_APPLICATION_CREDENTIALS or Application Default Credentials');
  if (host === '') throw new UsageError(`bucket required for gs replica URL ${JSON.stringify(text)}: use gs://BUCKET/PATH`);
  let path: string;
  try {
    path = normalizePath((slash === -1 ? '' : rest.slice(slash + 1)).split('/').map(decodeURIComponent).join('/'));
  } catch (cause) {
    throw new UsageError(`invalid percent-escape in gs URL path ${JSON.stringify(text)}`, { cause });
  }
  const options: { -readonly [K in keyof GcsReplicaClientOptions]: GcsReplicaClientOptions[K] } = { bucket: host, path };
  const ignored: string[] = [];
  for (const [key, value] of query) {
    if (key === 'endpoint') {
      if (value !== '') options.endpoint = value;
    } else {
      ignored.push(key);
    }
  }
  return { options, ignored };
}
