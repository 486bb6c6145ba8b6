import { UsageError } from '../ltx/errors.ts';
import { normalizeReplicaPath } from './key-layout.ts';
import { redactURL } from './registry.ts';

/**
 * Where a replica's files live, normalised so that two spellings of one place are equal
 * (`file:///a/b/` and `/a/b`; `s3://bkt/x` and `s3://bkt/x/`; a URL and the same place given
 * as `bucket` and `path` keys). Backends make them (`BackendInfo.locate`); hosts compare them.
 */
export interface ReplicaLocation {
  /**
   * The store the files are in: the backend type and whatever names one store of it (the
   * endpoint, account, bucket or server), lower-cased where case does not matter.
   */
  readonly store: string;
  /** The path inside the store: segments joined by `/`, no empty, `.` or `..` segments; '' for its root. */
  readonly path: string;
}

/**
 * A replica setting has a value no client could use. `setting` is its config key (`endpoint`,
 * `path`, `url`…), so a host can point at the line that holds it.
 */
export class InvalidSettingError extends UsageError {
  static override readonly errorCode: string = 'LITESTREAM_INVALID_SETTING';
  readonly setting: string;
  constructor(setting: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.setting = setting;
  }
}

/** Builds a location from a store and any spelling of a path inside it. */
export function replicaLocation(store: string, path: string): ReplicaLocation {
  return { store, path: normalizeReplicaPath(path) };
}

/**
 * How two replica locations relate: `same` place, one `nested` inside the other (the first
 * holds the second, or the other way round), or undefined when they are apart.
 */
export function compareReplicaLocations(a: ReplicaLocation, b: ReplicaLocation): 'same' | 'nested' | undefined {
  if (a.store !== b.store) return undefined;
  if (a.path === b.path) return 'same';
  const inside = (outer: string, inner: string): boolean => outer === '' || inner.startsWith(`${outer}/`);
  return inside(a.path, b.path) || inside(b.path, a.path) ? 'nested' : undefined;
}

/** A location as people read it: `store/path`. */
export function describeReplicaLocation(location: ReplicaLocation): string {
  return location.path === '' ? location.store : `${location.store}/${location.path}`;
}

/**
 * Checks an endpoint a backend will connect to (after the backend added a default scheme to a
 * bare `host:port`): it must parse as an `http://` or `https://` URL with a host, as the HTTP
 * client will need it. Returns the parsed URL; throws `UsageError` naming the backend and the
 * endpoint (without a password) otherwise, so a malformed endpoint fails when the config is
 * read, not at the first request.
 */
export function checkEndpointURL(endpoint: string, backend: string): URL {
  const shown = JSON.stringify(redactURL(endpoint));
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (cause) {
    throw new InvalidSettingError('endpoint', `invalid ${backend} endpoint ${shown}: not a URL (expected http(s)://HOST[:PORT] or HOST[:PORT])`, { cause });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidSettingError('endpoint', `invalid ${backend} endpoint ${shown}: it must use http:// or https://`);
  if (url.hostname === '') throw new InvalidSettingError('endpoint', `invalid ${backend} endpoint ${shown}: it names no host`);
  return url;
}
