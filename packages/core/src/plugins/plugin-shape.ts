import type { BackendPlugin, LazyBackendPlugin } from '../replica/registry.ts';

/** A module's default export, checked: an eager plugin or a lazy entry. */
export type CheckedPlugin = { readonly kind: 'eager'; readonly plugin: BackendPlugin } | { readonly kind: 'lazy'; readonly plugin: LazyBackendPlugin };

const SCHEME = /^[a-z][a-z0-9+.-]*$/;

/**
 * Checks that a plugin module's default export is a `BackendPlugin` (with `fromURL` and
 * `fromConfig`) or a `LazyBackendPlugin` (with `load`); returns what is wrong otherwise, in
 * words a plugin author can act on.
 */
export function checkPluginExport(value: unknown): CheckedPlugin | { readonly problem: string } {
  if (value === undefined) return { problem: 'it has no default export (export default a BackendPlugin or a LazyBackendPlugin)' };
  if (value === null || typeof value !== 'object') return { problem: `its default export is ${value === null ? 'null' : `a ${typeof value}`}, not a BackendPlugin or LazyBackendPlugin object` };
  const v = value as Record<string, unknown>;
  const wrong: string[] = [];
  if (typeof v.type !== 'string' || v.type === '') wrong.push('"type" must be a non-empty string (the config type, e.g. "s3")');
  if (!isStringList(v.schemes)) wrong.push('"schemes" must be a list of URL schemes without ":" (e.g. ["s3"])');
  else {
    const bad = v.schemes.filter((s) => !SCHEME.test(s));
    if (bad.length > 0) wrong.push(`"schemes" holds ${bad.map((s) => JSON.stringify(s)).join(', ')}: write schemes in lower case, without ":" or "//"`);
  }
  if (!isStringList(v.configKeys)) wrong.push('"configKeys" must be a list of strings (the config keys the backend accepts)');
  if (typeof v.description !== 'string') wrong.push('"description" must be a string');
  for (const name of ['checkURL', 'checkConfig', 'locate']) {
    if (v[name] !== undefined && typeof v[name] !== 'function') wrong.push(`"${name}" must be a function when present`);
  }
  const lazy = typeof v.load === 'function';
  const eager = typeof v.fromURL === 'function' && typeof v.fromConfig === 'function';
  if (!lazy && !eager) wrong.push('it needs fromURL() and fromConfig() (a BackendPlugin) or load() (a LazyBackendPlugin)');
  if (lazy && v.module !== undefined && typeof v.module !== 'string') wrong.push('"module" must be a string when present');
  if (wrong.length > 0) return { problem: `its default export is not a backend plugin: ${wrong.join('; ')}` };
  return eager ? { kind: 'eager', plugin: value as BackendPlugin } : { kind: 'lazy', plugin: value as LazyBackendPlugin };
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
