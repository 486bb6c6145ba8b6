import type { BackendContext, BackendRegistry, ReplicaClient } from '@litestream-ts/core';
import type { PluginRequest } from '@litestream-ts/core/plugins';

/** Builds the registry of a run from the plugin modules its config names. */
export type RegistryFactory = (plugins: readonly PluginRequest[]) => BackendRegistry | Promise<BackendRegistry>;

/**
 * The backend registry of one `litestream` run, created the first time a command needs it.
 * Creating it finds the installed backend packages and imports each one's small facts module
 * (type, schemes, config keys, URL check) but no SDK: a backend's own module loads on first use
 * of its scheme or type (see `createBackendRegistry`). `version`, `--help` and argument errors
 * never create it.
 */
export class DeferredRegistry {
  private readonly create: RegistryFactory;
  private registry: Promise<BackendRegistry> | undefined;

  /**
   * `create` builds the registry (default: the backends found by `createBackendRegistry`, also
   * searching beside each of `beside`).
   */
  constructor(create?: RegistryFactory, beside: readonly string[] = []) {
    this.create = create ?? (async (plugins) => (await import('./backends.ts')).createBackendRegistry({ plugins, beside }));
  }

  /**
   * The registry, created on the first call with `plugins` (a config's `plugins:`, resolved from
   * its directory); a run reads at most one config, before it builds any client.
   */
  get(plugins: readonly PluginRequest[] = []): Promise<BackendRegistry> {
    this.registry ??= Promise.resolve().then(() => this.create(plugins));
    return this.registry;
  }

  /** `BackendRegistry.fromURL` on the registry. */
  async fromURL(urlOrPath: string, context?: BackendContext): Promise<ReplicaClient> {
    return (await this.get()).fromURL(urlOrPath, context);
  }

  /** `BackendRegistry.fromConfig` on the registry. */
  async fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): Promise<ReplicaClient> {
    return (await this.get()).fromConfig(config, context);
  }
}
