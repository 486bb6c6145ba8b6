import { UsageError, redactURL } from '@litestream-ts/core';

/** What a `nats://[user:pass@]host[:port]/bucket` URL says. */
export interface ParsedNatsUrl {
  /** `nats://host:port`, without credentials or bucket; undefined for the default server. */
  readonly server: string | undefined;
  readonly bucket: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Query parameters that were ignored (Litestream reads none for NATS). */
  readonly ignored: readonly string[];
}

/** Parses a NATS replica URL; throws `UsageError` (with any password masked) when malformed. */
export function parseNatsUrl(url: string): ParsedNatsUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new UsageError(`invalid nats replica URL "${redactURL(url)}"`, { cause });
  }
  if (parsed.protocol !== 'nats:') throw new UsageError(`invalid nats replica URL "${redactURL(url)}": the scheme must be nats://`);
  const bucket = decode(parsed.pathname, 'bucket', url).replace(/^\/+|\/+$/g, '');
  if (bucket === '') throw new UsageError(`bucket required for nats replica URL "${redactURL(url)}" (nats://host:port/BUCKET)`);
  if (bucket.includes('/')) throw new UsageError(`nats replica URL "${redactURL(url)}" names more than a bucket; the path must be a single bucket name`);
  return {
    server: parsed.host === '' ? undefined : `nats://${parsed.host}`,
    bucket,
    username: parsed.username === '' ? undefined : decode(parsed.username, 'user name', url),
    password: parsed.password === '' ? undefined : decode(parsed.password, 'password', url),
    ignored: [...new Set(parsed.searchParams.keys())],
  };
}

function decode(part: string, what: string, url: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new UsageError(`nats replica URL "${redactURL(url)}" has a malformed percent-escape in its ${what}`, { cause });
  }
}
