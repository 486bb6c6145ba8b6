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
 * catches what an interrupted or failed one left). A backend whose `deleteAll` removes only its
 * own layout (sftp) would leave what a nested case left, so when the backend can list raw
 * objects, each replica found below the prefix is emptied too, and the listing must come back
 * empty. A local directory is removed whole, since the file backend keeps its empty
 * directories. Resolves to `removed`, or to what was left and why; never rejects.
 */
export async function removeScratch(registry: BackendRegistry, location: ScratchLocation, context?: BackendContext): Promise<string> {
  try {
    const client = await openScratchClient(registry, location, context);
    let left: string[];
    try {
      await client.deleteAll();
      left = await emptyNestedReplicas(registry, location, client, context);
    } finally {
      await client.close();
    }
    if ('url' in location && location.url.startsWith('file:')) {
      await rm(fileURLToPath(location.url.replace(/[?#].*$/, '')), { recursive: true, force: true });
      return 'removed';
    }
    if (left.length > 0) return `not removed (${left.length} ${left.length === 1 ? 'file' : 'files'} left below it, such as ${left[0]})`;
    return 'removed';
  } catch (error) {
    return `not removed (${(error as Error).message.split('\n')[0]})`;
  }
}

/** Empties every replica a raw listing finds below `location`; returns what is still listed. */
async function emptyNestedReplicas(registry: BackendRegistry, location: ScratchLocation, client: ReplicaClient, context: BackendContext | undefined): Promise<string[]> {
  if (client.capabilities.rawObjectReads !== true) return [];
  const roots = new Set<string>();
  for await (const object of client.listRawObjects('')) roots.add(replicaRootOf(object.path));
  if (roots.size === 0) return [];
  for (const root of roots) {
    if (root === '') continue;
    const nested = await openScratchClient(registry, childLocation(registry, location, root), context);
    try {
      await nested.deleteAll();
    } finally {
      await nested.close();
    }
  }
  const left: string[] = [];
  for await (const object of client.listRawObjects('')) left.push(object.path);
  return left;
}

/** The replica directory a stored path belongs to: what precedes its `ltx/` part, else its directory. */
function replicaRootOf(path: string): string {
  const ltx = path.search(/(?:^|\/)ltx\//);
  if (ltx !== -1) return path.slice(0, ltx);
  const slash = path.lastIndexOf('/');
  return slash === -1 ? '' : path.slice(0, slash);
}
