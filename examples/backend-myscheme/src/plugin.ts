/**
 * `litestream-backend-myscheme/plugin`: what a host (the `litestream` command) reads to know
 * this backend before using it: its config type, URL scheme, config keys and checks. Its
 * default export is a `LazyBackendPlugin`: the SQLite code (and better-sqlite3) is imported by
 * `load()` on the first use of a `myscheme://` URL or `type: myscheme` entry, never before.
 *
 * This module must stay light: it imports only `./location.ts` (plain parsing) and types.
 */
import type { BackendInfo, LazyBackendPlugin } from '@litestream-ts/core';
import { SCHEME, addressFromConfig, addressFromURL, locate } from './location.ts';

/** The static facts of the backend; `mySchemeBackend` is these plus the client factories. */
export const mySchemeBackendInfo: BackendInfo = {
  type: SCHEME,
  schemes: [SCHEME],
  configKeys: ['store'],
  description: 'replicas kept inside one SQLite file (myscheme:///path/to/store.sqlite?path=replica)',
  checkURL(url: string): void {
    addressFromURL(url);
  },
  checkConfig(config: Readonly<Record<string, unknown>>): void {
    addressFromConfig(config);
  },
  locate,
};

/** The backend as a lazy registry entry. */
export const lazyMySchemeBackend: LazyBackendPlugin = {
  ...mySchemeBackendInfo,
  module: 'litestream-backend-myscheme',
  load: async () => (await import('./backend.ts')).mySchemeBackend,
};

export default lazyMySchemeBackend;
