/**
 * `@litestream-ts/core/plugins`: finding the backends a host can use at run time. Small on
 * purpose: it imports the registry and no engine, codec or backend SDK.
 */
export { discoverBackends, discoverPlugins, parsePluginList, type DiscoverOptions, type DiscoveredPlugin, type PluginRequest } from './discover.ts';
export { PluginError } from './plugin-error.ts';
export { FIRST_PARTY_BACKENDS, firstPartyForScheme, firstPartyForType, type FirstPartyBackend } from './first-party.ts';
export { isBackendPackageName } from './package-search.ts';
export type { CheckedPlugin } from './plugin-shape.ts';
export { BackendRegistry, BackendLoadError, type BackendContext, type BackendInfo, type BackendPlugin, type LazyBackendPlugin } from '../replica/registry.ts';
