import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../ltx/errors.ts';
import type { ReplicaClient } from './replica-client.ts';

/** Options every factory may receive from the host (CLI or library user). */
export interface BackendContext {
  /** Credentials and settings shared by every replica of a config (Litestream's global keys). */
  readonly globals?: Readonly<Record<string, unknown>>;
  /** Where a backend may log warnings (for example about skipped TLS verification). */
  readonly warn?: (message: string) => void;
}

/**
 * A backend plugin: how to build its `ReplicaClient` from a URL or from a config entry.
 * Core never imports a backend; backends register a plugin and the host picks by scheme or type.
 */
export interface BackendPlugin {
  /** Config `type` (for example `s3`). */
  readonly type: string;
  /** URL schemes, without `:` (for example `['s3']`). */
  readonly schemes: readonly string[];
  /** Config keys this backend accepts besides the common ones, so unknown keys can be reported. */
  readonly configKeys: readonly string[];
  /** One line for listings of installed backends. */
  readonly description: string;
  /** Builds a client from a replica URL string (the plugin parses it: some forms, such as S3 access-point ARNs, are not WHATWG URLs). */
  fromURL(url: string, context?: BackendContext): ReplicaClient | Promise<ReplicaClient>;
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): ReplicaClient | Promise<ReplicaClient>;
  /**
   * Checks a URL's form without connecting (throws `UsageError`), so config errors surface
   * at load time. Optional: without it the URL must parse as a WHATWG URL.
   */
  checkURL?(url: string): void;
}

/** Config keys of a replica entry that belong to the host, not to a backend. */
export const COMMON_REPLICA_KEYS: readonly string[] = ['type', 'url', 'name', 'path', 'sync-interval', 'validation-interval'];

/** Maps URL schemes and config types to backend plugins. */
export class BackendRegistry {
  private readonly byType = new Map<string, BackendPlugin>();
  private readonly byScheme = new Map<string, BackendPlugin>();

  /** Adds a plugin; a scheme or type already taken by another plugin is an error. */
  register(plugin: BackendPlugin): this {
    const existing = this.byType.get(plugin.type);
    if (existing && existing !== plugin) throw new UsageError(`backend type "${plugin.type}" is already registered`);
    for (const scheme of plugin.schemes) {
      const owner = this.byScheme.get(scheme);
      if (owner && owner !== plugin) throw new UsageError(`URL scheme "${scheme}:" is already registered by the ${owner.type} backend`);
    }
    this.byType.set(plugin.type, plugin);
    for (const scheme of plugin.schemes) this.byScheme.set(scheme, plugin);
    return this;
  }

  /** Installed plugins, sorted by type. */
  list(): BackendPlugin[] {
    return [...this.byType.values()].sort((a, b) => a.type.localeCompare(b.type));
  }

  /** The plugin for a config type; throws naming the installed ones when absent. */
  forType(type: string): BackendPlugin {
    const plugin = this.byType.get(type);
    if (!plugin) throw new UsageError(`unknown replica type "${type}"; installed backends: ${this.describeInstalled()}`);
    return plugin;
  }

  /**
   * Builds a client from a replica URL. A string without `scheme://` is a local path and
   * goes to the backend registered for `file`.
   */
  async fromURL(urlOrPath: string, context?: BackendContext): Promise<ReplicaClient> {
    const { plugin, url } = this.resolve(urlOrPath);
    return plugin.fromURL(url, context);
  }

  /** Builds a client from a config entry (`type` or `url` decides the backend). */
  async fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): Promise<ReplicaClient> {
    if (typeof config.type === 'string') return this.forType(config.type).fromConfig(config, context);
    if (typeof config.url === 'string') {
      const { plugin } = this.resolve(config.url);
      return plugin.fromConfig(config, context);
    }
    if (typeof config.path === 'string') return this.forType('file').fromConfig(config, context);
    throw new UsageError('replica needs a "url", a "type" or a "path"');
  }

  /** Which plugin and URL a replica string designates. */
  resolve(urlOrPath: string): { plugin: BackendPlugin; url: string } {
    const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(urlOrPath);
    if (!match) {
      const plugin = this.byScheme.get('file');
      if (!plugin) throw new UsageError(`"${urlOrPath}" is a local path, but no file backend is installed; installed backends: ${this.describeInstalled()}`);
      return { plugin, url: pathToFileURL(resolvePath(urlOrPath)).href };
    }
    const scheme = match[1]!.toLowerCase();
    const plugin = this.byScheme.get(scheme);
    if (!plugin) throw new UsageError(`unknown replica URL scheme "${scheme}://"; installed backends: ${this.describeInstalled()}`);
    try {
      if (plugin.checkURL) plugin.checkURL(urlOrPath);
      else new URL(urlOrPath);
    } catch (cause) {
      if (cause instanceof UsageError) throw cause;
      throw new UsageError(`invalid replica URL "${redactURL(urlOrPath)}"`, { cause });
    }
    return { plugin, url: urlOrPath };
  }

  private describeInstalled(): string {
    const plugins = this.list();
    if (plugins.length === 0) return '(none)';
    return plugins.map((p) => `${p.type} (${p.schemes.map((s) => `${s}://`).join(', ')})`).join(', ');
  }
}

/** Removes a password from a URL string so it can appear in an error. */
export function redactURL(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:)[^/@]*@/, '$1****@');
}

/** The registry the CLI and `Store` use unless given another. */
export const defaultRegistry = new BackendRegistry();
