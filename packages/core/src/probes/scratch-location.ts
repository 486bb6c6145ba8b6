import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../ltx/errors.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import { redactURL, type BackendContext, type BackendRegistry } from '../replica/registry.ts';

/**
 * Where a scratch replica lives below a user's replica URL: either a URL with the scratch
 * prefix appended to its path, or (for backends whose URL holds no path, such as NATS, whose
 * URL names only a bucket) the user's URL plus a `path` config key.
 */
export type ScratchLocation = { readonly url: string } | { readonly config: Readonly<Record<string, unknown>> };

/** A fresh, unique prefix name for one certification or doctor run (`lts-certify-<time>-<random>`). */
export function uniqueScratchPrefix(label = 'lts-certify'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Places `prefix` (one or more `/`-separated names) below the path of a replica URL or local
 * directory. The URL's form is checked by its backend without loading it; a backend that
 * refuses a longer path but takes a `path` key gets the prefix there. Throws `UsageError`
 * (the URL with any password hidden) when neither works.
 */
export function scratchLocation(registry: BackendRegistry, urlOrPath: string, prefix: string): ScratchLocation {
  const { plugin, url } = registry.resolve(urlOrPath);
  const queryAt = url.search(/[?#]/);
  const base = queryAt === -1 ? url : url.slice(0, queryAt);
  const rest = queryAt === -1 ? '' : url.slice(queryAt);
  const candidate = `${base.replace(/\/+$/, '')}/${prefix.split('/').map(encodeURIComponent).join('/')}${rest}`;
  try {
    registry.resolve(candidate);
    return { url: candidate };
  } catch (error) {
    if (!plugin.configKeys.includes('path')) {
      throw new UsageError(`cannot place a scratch prefix below ${redactURL(urlOrPath)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { config: { url, path: prefix } };
  }
}

/** Builds the client of a scratch location. */
export function openScratchClient(registry: BackendRegistry, location: ScratchLocation, context?: BackendContext): Promise<ReplicaClient> {
  return 'url' in location ? registry.fromURL(location.url, context) : registry.fromConfig(location.config, context);
}

/** A location one level further down (`<location>/<name>`). */
export function childLocation(registry: BackendRegistry, location: ScratchLocation, name: string): ScratchLocation {
  if ('url' in location) return scratchLocation(registry, location.url, name);
  return { config: { ...location.config, path: `${String(location.config.path)}/${name}` } };
}

/**
 * Deletes everything below a run's scratch prefix (each case and probe cleans its own; this
 * catches what an interrupted or failed one left). A local directory is removed whole, since
 * the file backend keeps its empty directories. Resolves to `removed`, or to what was left and
 * why; never rejects.
 */
export async function removeScratch(registry: BackendRegistry, location: ScratchLocation, context?: BackendContext): Promise<string> {
  try {
    const client = await openScratchClient(registry, location, context);
    try {
      await client.deleteAll();
    } finally {
      await client.close();
    }
    if ('url' in location && location.url.startsWith('file:')) await rm(fileURLToPath(location.url.replace(/[?#].*$/, '')), { recursive: true, force: true });
    return 'removed';
  } catch (error) {
    return `not removed (${(error instanceof Error ? error.message : String(error)).split('\n')[0]})`;
  }
}
