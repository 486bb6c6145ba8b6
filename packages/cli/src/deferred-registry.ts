import type { BackendContext, BackendRegistry, ReplicaClient } from '@litestream-ts/core';

/**
 * The backend registry of one `litestream` run, created the first time a command needs it.
 * Creating it imports core and each backend's small facts module (type, schemes, config keys,
 * URL check) but no SDK: a backend's own module loads on first use of its scheme or type (see
 * `createBackendRegistry`). `version`, `--help` and argument errors never create it.
 */
export class DeferredRegistry {
  private readonly create: () => BackendRegistry | Promise<BackendRegistry>;
  private registry: Promise<BackendRegistry> | undefined;

  /** `create` builds the registry (default: every backend the command ships, as lazy entries). */
  constructor(create: () => BackendRegistry | Promise<BackendRegistry> = shippedBackends) {
    this.create = create;
  }

  /** The registry, created on the first call. */
  get(): Promise<BackendRegistry> {
    this.registry ??= Promise.resolve().then(this.create);
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

async function shippedBackends(): Promise<BackendRegistry> {
  return (await import('./backends.ts')).createBackendRegistry();
}
