import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LitestreamError, UsageError } from '../ltx/errors.ts';
import { firstPartyForScheme, firstPartyForType, installHint } from '../plugins/first-party.ts';
import type { ReplicaClient } from './replica-client.ts';
import type { ReplicaLocation } from './replica-location.ts';
import { STORAGE_TIMEOUT_KEYS, storageTimeoutsFromConfig, type StorageTimeouts } from './storage-timeouts.ts';

/** Options every factory may receive from the host (CLI or library user). */
export interface BackendContext {
  /** Credentials and settings shared by every replica of a config (Litestream's global keys). */
  readonly globals?: Readonly<Record<string, unknown>>;
  /** Where a backend may log warnings (for example about skipped TLS verification). */
  readonly warn?: (message: string) => void;
  /**
   * Connect and request timeouts for the client, ms. `fromConfig` fills them from the entry's
   * `connect-timeout` and `request-timeout` (over the globals' and these); backends pass them
   * to their client's options.
   */
  readonly timeouts?: StorageTimeouts;
}

/**
 * What a host knows about a backend without loading it: the static facts that route a URL or
 * a config entry to it and check a config's keys. Cheap to hold: no SDK behind them.
 */
export interface BackendInfo {
  /** Config `type` (for example `s3`). */
  readonly type: string;
  /** URL schemes, without `:` (for example `['s3']`). */
  readonly schemes: readonly string[];
  /**
   * Further config `type`s this backend answers (for example `oss` for the s3 backend, which
   * serves Alibaba Cloud OSS through its S3 API). Optional; `fromConfig` sees the entry's `type`.
   */
  readonly aliases?: readonly string[];
  /** Config keys this backend accepts besides the common ones, so unknown keys can be reported. */
  readonly configKeys: readonly string[];
  /** One line for listings of installed backends. */
  readonly description: string;
  /**
   * Checks a URL's form without connecting (throws `UsageError`), so config errors surface
   * at load time. Optional: without it the URL must parse as a WHATWG URL. A lazy backend's
   * check must not need its SDK: the registry calls it before the backend is loaded.
   */
  checkURL?(url: string): void;
  /**
   * Checks a replica config entry (what `fromConfig` would get: `url` and/or the backend's keys,
   * shared settings merged in) without connecting or loading the SDK, as far as its form goes:
   * endpoints, names, paths. Throws `UsageError`. Optional.
   */
  checkConfig?(config: Readonly<Record<string, unknown>>): void;
  /**
   * Where the replica of a config entry lives (see `ReplicaLocation`), so a host can refuse two
   * databases that would write the same place. Optional; throws `UsageError` as `checkConfig`.
   */
  locate?(config: Readonly<Record<string, unknown>>): ReplicaLocation;
}

/**
 * A backend plugin: how to build its `ReplicaClient` from a URL or from a config entry.
 * Core never imports a backend; backends register a plugin and the host picks by scheme or type.
 */
export interface BackendPlugin extends BackendInfo {
  /** Builds a client from a replica URL string (the plugin parses it: some forms, such as S3 access-point ARNs, are not WHATWG URLs). */
  fromURL(url: string, context?: BackendContext): ReplicaClient | Promise<ReplicaClient>;
  fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): ReplicaClient | Promise<ReplicaClient>;
}

/**
 * A backend known by its facts whose module (and SDK) is imported on first use of its scheme
 * or type, through `load`. Backend packages export one from a small module that does not
 * import their SDK (for example `@litestream-ts/backend-s3/plugin`).
 */
export interface LazyBackendPlugin extends BackendInfo {
  /** What `load` imports, named in errors: a package name such as `@litestream-ts/backend-s3`, or a path. */
  readonly module: string;
  /** Imports the backend's module and returns its plugin. Called at most once while it succeeds. */
  load(): Promise<BackendPlugin>;
}

/** A lazy backend's module could not be imported, or did not provide the backend it announced. */
export class BackendLoadError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_BACKEND_LOAD';
  /** The backend's config type. */
  readonly type: string;
  /** The module that failed (see `LazyBackendPlugin.module`). */
  readonly module: string;
  constructor(type: string, module: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot load the ${type} backend from ${module}: ${reason}`, options);
    this.type = type;
    this.module = module;
  }
}

/** Config keys of a replica entry that belong to the host, not to a backend. */
export const COMMON_REPLICA_KEYS: readonly string[] = ['type', 'url', 'name', 'path', 'sync-interval', 'validation-interval', ...Object.keys(STORAGE_TIMEOUT_KEYS)];

/** One registered backend: its facts, and its plugin once there is one. */
interface Entry {
  /** What `register`/`registerLazy` was given: `list`, `forType` and `resolve` return it. */
  readonly info: BackendInfo;
  plugin: BackendPlugin | undefined;
  readonly lazy: LazyBackendPlugin | undefined;
  loading: Promise<BackendPlugin> | undefined;
}

/**
 * Maps URL schemes and config types to backends. A backend is registered either as a plugin
 * (`register`) or as a lazy entry (`registerLazy`) whose module is imported the first time a
 * client is built for its scheme or type (`fromURL`, `fromConfig`, `load`). Routing and URL
 * checks (`resolve`, `forType`, `list`) use only the facts and never import anything.
 */
export class BackendRegistry {
  private readonly byType = new Map<string, Entry>();
  private readonly byScheme = new Map<string, Entry>();

  /** Adds a loaded plugin; a scheme or type already taken by another backend is an error. */
  register(plugin: BackendPlugin): this {
    return this.add({ info: plugin, plugin, lazy: undefined, loading: undefined });
  }

  /**
   * Adds a backend by its facts; `entry.load()` runs on first use of its scheme or type. A
   * scheme or type already taken by another backend is an error.
   */
  registerLazy(entry: LazyBackendPlugin): this {
    if (typeof entry.load !== 'function') throw new TypeError(`lazy backend "${entry.type}" has no load()`);
    return this.add({ info: entry, plugin: undefined, lazy: entry, loading: undefined });
  }

  /** Installed backends (loaded or not), sorted by type. */
  list(): BackendInfo[] {
    return [...new Set(this.byType.values())].map((e) => e.info).sort((a, b) => a.type.localeCompare(b.type));
  }

  /** The facts of the backend for a config type, without loading it; throws naming the installed ones when absent. */
  forType(type: string): BackendInfo {
    return this.entryForType(type).info;
  }

  /** Whether the backend of a config type has its plugin at hand (registered eagerly, or loaded). */
  isLoaded(type: string): boolean {
    return this.entryForType(type).plugin !== undefined;
  }

  /**
   * The plugin of a config type, importing a lazy backend's module on first call. A failed
   * import is a `BackendLoadError` naming the module and why; the next call tries again.
   */
  async load(type: string): Promise<BackendPlugin> {
    return this.pluginOf(this.entryForType(type));
  }

  /**
   * Builds a client from a replica URL. A string without `scheme://` is a local path and
   * goes to the backend registered for `file`.
   */
  async fromURL(urlOrPath: string, context?: BackendContext): Promise<ReplicaClient> {
    const { entry, url } = this.route(urlOrPath);
    return (await this.pluginOf(entry)).fromURL(url, withTimeouts(context, {}));
  }

  /** Builds a client from a config entry (`type` or `url` decides the backend). */
  async fromConfig(config: Readonly<Record<string, unknown>>, context?: BackendContext): Promise<ReplicaClient> {
    let entry: Entry;
    if (typeof config.type === 'string') entry = this.entryForType(config.type);
    else if (typeof config.url === 'string') entry = this.route(config.url).entry;
    else if (typeof config.path === 'string') entry = this.entryForType('file');
    else throw new UsageError('replica needs a "url", a "type" or a "path"');
    return (await this.pluginOf(entry)).fromConfig(config, withTimeouts(context, config));
  }

  /** Which backend (its facts) and URL a replica string designates; checks the URL's form without loading the backend. */
  resolve(urlOrPath: string): { plugin: BackendInfo; url: string } {
    const { entry, url } = this.route(urlOrPath);
    return { plugin: entry.info, url };
  }

  /**
   * Checks a config entry without loading its backend: the URL's form, then the backend's own
   * `checkConfig` (endpoints, names, paths). Throws `UsageError`.
   */
  checkConfig(config: Readonly<Record<string, unknown>>): void {
    this.configEntry(config).info.checkConfig?.(config);
  }

  /** Where a config entry's replica lives, when its backend can tell (see `BackendInfo.locate`). */
  locate(config: Readonly<Record<string, unknown>>): ReplicaLocation | undefined {
    return this.configEntry(config).info.locate?.(config);
  }

  private configEntry(config: Readonly<Record<string, unknown>>): Entry {
    const url = typeof config.url === 'string' && config.url !== '' ? this.route(config.url).entry : undefined;
    if (typeof config.type === 'string') return this.entryForType(config.type);
    if (url) return url;
    if (typeof config.path === 'string') return this.entryForType('file');
    throw new UsageError('replica needs a "url", a "type" or a "path"');
  }

  private add(entry: Entry): this {
    const { type, schemes } = entry.info;
    const types = [type, ...(entry.info.aliases ?? [])];
    const existing = this.byType.get(type);
    for (const name of types) {
      const owner = this.byType.get(name);
      if (owner && owner.info !== entry.info) throw new UsageError(`backend type "${name}" is already registered`);
    }
    for (const scheme of schemes) {
      const owner = this.byScheme.get(scheme);
      if (owner && owner.info !== entry.info) throw new UsageError(`URL scheme "${scheme}:" is already registered by the ${owner.info.type} backend`);
    }
    if (existing) return this;
    for (const name of types) this.byType.set(name, entry);
    for (const scheme of schemes) this.byScheme.set(scheme, entry);
    return this;
  }

  private entryForType(type: string): Entry {
    const entry = this.byType.get(type);
    if (!entry) {
      const provider = firstPartyForType(type);
      if (provider) throw new UsageError(`${installHint(`replica type "${type}"`, provider, this.installedModules())} (installed backends: ${this.describeInstalled()})`);
      throw new UsageError(`unknown replica type "${type}"; installed backends: ${this.describeInstalled()}`);
    }
    return entry;
  }

  private route(urlOrPath: string): { entry: Entry; url: string } {
    const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(urlOrPath);
    if (!match) {
      this.refuseSchemeLikePath(urlOrPath);
      const entry = this.byScheme.get('file');
      if (!entry) throw new UsageError(`"${urlOrPath}" is a local path, but no file backend is installed; installed backends: ${this.describeInstalled()}`);
      return { entry, url: pathToFileURL(resolvePath(urlOrPath)).href };
    }
    const scheme = match[1]!.toLowerCase();
    const entry = this.byScheme.get(scheme);
    if (!entry) {
      const provider = firstPartyForScheme(scheme);
      if (provider) throw new UsageError(`${installHint(`${scheme}://`, provider, this.installedModules())} (installed backends: ${this.describeInstalled()})`);
      throw new UsageError(`unknown replica URL scheme "${scheme}://"; installed backends: ${this.describeInstalled()}`);
    }
    try {
      if (entry.info.checkURL) entry.info.checkURL(urlOrPath);
      else new URL(urlOrPath);
    } catch (cause) {
      if (cause instanceof UsageError) throw cause;
      throw new UsageError(`invalid replica URL "${redactURL(urlOrPath)}"`, { cause });
    }
    return { entry, url: urlOrPath };
  }

  /**
   * A string without `scheme://` is a local path, unless it starts like a URL (`s3:/bucket/x`,
   * `s3:bucket`, `gs:`): that is a mistyped URL far more often than a directory named `s3:`, and
   * taking it as one would replicate to a local directory without a word.
   */
  private refuseSchemeLikePath(text: string): void {
    const scheme = schemePrefix(text);
    if (scheme === undefined) return;
    const shown = JSON.stringify(redactURL(text));
    if (this.byScheme.has(scheme)) {
      const rest = text.slice(scheme.length + 1).replace(/^\/+/, '');
      throw new UsageError(`${shown} is not a valid ${scheme} URL: write ${scheme}:// with two slashes, as in ${redactURL(`${scheme}://${rest}`)}`);
    }
    throw new UsageError(
      `${shown} starts like a URL with the scheme "${scheme}:", which no installed backend serves (installed backends: ${this.describeInstalled()}); ` +
        `for a local directory whose name holds a colon, write it as ./${text} or as an absolute path`,
    );
  }

  private pluginOf(entry: Entry): Promise<BackendPlugin> {
    if (entry.plugin) return Promise.resolve(entry.plugin);
    // Concurrent first uses share one import; a failure is forgotten so a later use retries.
    entry.loading ??= loadLazy(entry.lazy!).then(
      (plugin) => {
        entry.plugin = plugin;
        return plugin;
      },
      (error: unknown) => {
        entry.loading = undefined;
        throw error;
      },
    );
    return entry.loading;
  }

  /** The modules of the lazy backends registered (package names for installed packages). */
  private installedModules(): Set<string> {
    return new Set([...this.byType.values()].flatMap((e) => (e.lazy ? [e.lazy.module] : [])));
  }

  private describeInstalled(): string {
    const backends = this.list();
    if (backends.length === 0) return '(none)';
    return backends.map((p) => `${p.type} (${p.schemes.map((s) => `${s}://`).join(', ')})`).join(', ');
  }
}

/** The context with the timeouts of the globals, then the context's own, then the entry's. */
function withTimeouts(context: BackendContext | undefined, config: Readonly<Record<string, unknown>>): BackendContext {
  const timeouts = { ...storageTimeoutsFromConfig(context?.globals ?? {}), ...context?.timeouts, ...storageTimeoutsFromConfig(config) };
  return { ...context, timeouts };
}

async function loadLazy(lazy: LazyBackendPlugin): Promise<BackendPlugin> {
  let plugin: BackendPlugin;
  try {
    plugin = await lazy.load();
  } catch (cause) {
    throw new BackendLoadError(lazy.type, lazy.module, cause instanceof Error ? cause.message : String(cause), { cause });
  }
  if (plugin === null || typeof plugin !== 'object' || typeof plugin.fromURL !== 'function' || typeof plugin.fromConfig !== 'function') {
    throw new BackendLoadError(lazy.type, lazy.module, 'it did not provide a backend plugin (an object with fromURL and fromConfig)');
  }
  if (plugin.type !== lazy.type) throw new BackendLoadError(lazy.type, lazy.module, `it provides the "${plugin.type}" backend instead`);
  const missing = lazy.schemes.filter((s) => !plugin.schemes.includes(s));
  if (missing.length > 0) throw new BackendLoadError(lazy.type, lazy.module, `its plugin does not serve ${missing.map((s) => `${s}://`).join(', ')}, which its entry announced`);
  return plugin;
}

/**
 * The lower-cased scheme when `text` starts like a URL (`word:`) without being one
 * (`word://`), undefined otherwise. A Windows drive (`C:\dir`, `C:/dir`) is a path on Windows.
 */
export function schemePrefix(text: string): string | undefined {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):(?!\/\/)/.exec(text);
  if (!match) return undefined;
  if (process.platform === 'win32' && /^[A-Za-z]:([\\/]|$)/.test(text)) return undefined;
  return match[1]!.toLowerCase();
}

/** Removes a password from a URL string so it can appear in an error. */
export function redactURL(text: string): string {
  return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/:@]*:)[^/@]*@/, '$1****@');
}

/** The registry the CLI and `Store` use unless given another. */
export const defaultRegistry = new BackendRegistry();
