import type { BackendContext, BackendRegistry } from '../replica/registry.ts';
import type { ReplicaClient } from '../replica/replica-client.ts';
import { GENERIC_PROBES } from './generic-probes.ts';
import { firstLine, PROTOCOL_PROBES, type ProbeResult, type ProbingPlugin, type ProviderProbe, type SettingAdvice } from './probe.ts';
import { childLocation, openScratchClient, type ScratchLocation } from './scratch-location.ts';

export interface RunProbesOptions {
  /** How long lagging deletes and listings are re-checked, ms (default 5000). */
  readonly recheckMs?: number;
  /** Passed to the backend factory (warnings, timeouts). */
  readonly context?: BackendContext;
  readonly signal?: AbortSignal;
  /** Called as each probe finishes, for progress output. */
  readonly onResult?: (result: ProbeResult) => void;
}

export interface ProbeReport {
  /** The backend's config type (`s3`, `file`, …). */
  readonly backend: string;
  readonly results: readonly ProbeResult[];
  /** Settings the findings recommend, one per key (the first finding that names a key wins). */
  readonly settings: readonly SettingAdvice[];
  /** False when the store could not even be listed (nothing was written then). */
  readonly reachable: boolean;
}

/**
 * Runs every provider probe against the store at `location` (a scratch prefix the caller made
 * unique and deletes afterwards): the generic probes, then the backend plugin's own
 * (`ProbingPlugin.probes`), then a skipped entry for each protocol probe the backend lacks.
 * Each probe gets a fresh client on `<location>/probe-<id>`, which is emptied and closed after
 * it. A probe that throws is a `fail` with the error's first line. A store that cannot even be
 * listed is one `reachable` failure, and every probe is skipped.
 */
export async function runProviderProbes(registry: BackendRegistry, location: ScratchLocation, options: RunProbesOptions = {}): Promise<ProbeReport> {
  const recheckMs = options.recheckMs ?? 5_000;
  const first = await openScratchClient(registry, location, options.context);
  const backend = first.type;
  // One listing first: a store that cannot be reached (or refuses the credentials) is one
  // failure, not the same error from every probe.
  let unreachable: string | undefined;
  const listedAt = Date.now();
  try {
    for await (const _file of first.listLtxFiles(0, { signal: options.signal })) break;
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    unreachable = firstLine(error);
  } finally {
    await first.close().catch(() => {});
  }
  const plugin = (await registry.load(backend)) as ProbingPlugin;
  const own = Array.isArray(plugin.probes) ? plugin.probes : [];
  const probes: ProviderProbe[] = [...GENERIC_PROBES, ...own];
  const results: ProbeResult[] = [];
  const report = (result: ProbeResult): void => {
    results.push(result);
    options.onResult?.(result);
  };
  if (unreachable !== undefined) {
    report({ id: 'reachable', title: 'the store answers a listing', durationMs: Date.now() - listedAt, status: 'fail', detail: unreachable });
    for (const probe of probes) report({ id: probe.id, title: probe.title, durationMs: 0, status: 'skip', detail: 'the store could not be listed (see above)' });
  }
  for (const probe of unreachable === undefined ? probes : []) {
    options.signal?.throwIfAborted();
    const started = Date.now();
    let client: ReplicaClient | undefined;
    try {
      client = await openScratchClient(registry, childLocation(registry, location, `probe-${probe.id}`), options.context);
      const skip = probe.skipReason?.(client);
      const finding = skip === undefined ? await probe.run(client, { recheckMs, signal: options.signal }) : { status: 'skip' as const, detail: skip };
      report({ id: probe.id, title: probe.title, durationMs: Date.now() - started, ...finding });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      report({ id: probe.id, title: probe.title, durationMs: Date.now() - started, status: 'fail', detail: firstLine(error) });
    } finally {
      if (client) {
        await client.deleteAll().catch(() => {});
        await client.close().catch(() => {});
      }
    }
  }
  for (const missing of PROTOCOL_PROBES) {
    if (own.some((p) => p.id === missing.id)) continue;
    report({ id: missing.id, title: missing.title, durationMs: 0, status: 'skip', detail: `${missing.skipReason} (this is the ${backend} backend)` });
  }
  const settings: SettingAdvice[] = [];
  for (const result of results) for (const advice of result.settings ?? []) if (!settings.some((s) => s.key === advice.key)) settings.push(advice);
  return { backend, results, settings, reachable: unreachable === undefined };
}
