import { join as joinNative, posix } from 'node:path';
import { UsageError, redactURL, replicaLocation, type BackendRegistry } from '@litestream-ts/core';

type Settings = Readonly<Record<string, unknown>>;

/**
 * The replica settings of the database at `relative` (a `/`-separated path below the
 * directory): the directory's replica with `relative` appended to where it points, as
 * Litestream does (`s3://bkt/tenants` → `s3://bkt/tenants/team-a/app.db`; `path: prod` →
 * `path: prod/team-a/app.db`).
 *
 * Litestream appends to the URL's path whatever the backend; a NATS URL names only its bucket,
 * so there the relative path goes to `path` instead. Whichever spelling is used, the result is
 * checked with the backend's own `locate`: it must lie exactly at `relative` below the
 * directory's replica, so that the directory's replica covers every database's (which the
 * config's overlap check relies on). Throws `UsageError` when the backend allows neither.
 */
export function childReplicaSettings(registry: BackendRegistry, settings: Settings, relative: string): Record<string, unknown> {
  const candidates: Array<Record<string, unknown>> = [];
  const url = settings.url;
  if (typeof url === 'string' && url !== '') {
    candidates.push({ ...settings, url: appendToURL(url, relative) });
    candidates.push({ ...settings, path: joinPath(settings, relative) });
  } else candidates.push({ ...settings, path: joinPath(settings, relative) });
  const base = registry.locate(settings);
  let last: unknown;
  for (const candidate of candidates) {
    try {
      registry.checkConfig(candidate);
      if (base === undefined) return candidate;
      const located = registry.locate(candidate);
      const expected = replicaLocation(base.store, `${base.path}/${relative}`);
      if (located && located.store === expected.store && located.path === expected.path) return candidate;
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      last = err;
    }
  }
  const shown = typeof url === 'string' ? redactURL(url) : `${String(settings.type)} replica`;
  throw new UsageError(`cannot place the replica of ${relative} below ${shown}${last instanceof Error ? `: ${last.message}` : ''}`);
}

/** `relative` appended to the path of a URL, before its query and fragment, each segment escaped. */
export function appendToURL(url: string, relative: string): string {
  const cut = url.search(/[?#]/);
  const head = cut === -1 ? url : url.slice(0, cut);
  const tail = cut === -1 ? '' : url.slice(cut);
  const escaped = relative.split('/').map(escapeSegment).join('/');
  return `${head.replace(/\/+$/, '')}/${escaped}${tail}`;
}

/** Escapes what a URL path cannot hold as is; every backend decodes its URL path. */
function escapeSegment(segment: string): string {
  return segment.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/gu, (c) => encodeURIComponent(c));
}

/** The `path` setting with `relative` appended: a native path for local files, `/`-joined otherwise. */
function joinPath(settings: Settings, relative: string): string {
  const path = typeof settings.path === 'string' ? settings.path : '';
  if (settings.type === 'file') return path === '' ? joinNative(...relative.split('/')) : joinNative(path, ...relative.split('/'));
  return path === '' ? relative : posix.join(path, relative);
}
