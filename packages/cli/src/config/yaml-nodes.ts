import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ConfigSource } from './config-source.ts';
import { suggestKey } from './suggest.ts';

/** One `key: value` of a YAML mapping, with the value's aliases resolved. */
export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  /** `null` when the key has no value (`key:` or `key: ~`); such keys mean "use the default". */
  readonly value: Node | null;
  /** Key path for messages, such as `dbs[0].replica.url`. */
  readonly path: string;
}

/** A YAML mapping read into its entries (YAML merge keys `<<: *anchor` applied). */
export interface Mapping {
  readonly node: Node;
  readonly path: string;
  readonly entries: ReadonlyMap<string, Entry>;
}

/** What a known key that litestream-ts does not implement leads to. */
export interface UnsupportedKey {
  /** `warn`: accepted and ignored (harmless to leave out); `error`: refused (results would differ). */
  readonly action: 'warn' | 'error';
  readonly reason: string;
}

/** The keys a mapping may hold. */
export interface KeySpec {
  readonly known: readonly string[];
  readonly unsupported?: Readonly<Record<string, UnsupportedKey>>;
  /** Extra explanation for a key that is not known here (for example, a backend that is not installed). */
  readonly explainUnknown?: (key: string) => string | undefined;
  /** List the accepted keys when no suggestion fits (skip for long lists). */
  readonly listKnown?: boolean;
  /** Accept any key starting with `x-` without a word (a place for YAML anchors, as in Compose files). */
  readonly allowExtensions?: boolean;
}

/** `parent.key`, or `key` at the top. */
export function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/** Whether a node stands for "no value" (`key:` or `key: ~`). */
export function isEmptyValue(node: Node | null | undefined): boolean {
  return node == null || (isScalar(node) && node.value === null);
}

/** Reads a mapping; throws when the node is something else. */
export function readMapping(source: ConfigSource, node: Node | null | undefined, path: string, at?: Node): Mapping {
  const resolved = source.resolve(node, path);
  if (!isMap(resolved)) throw source.error(resolved ?? at, path || undefined, `expected a mapping of settings (key: value lines), got ${describeNode(resolved)}`);
  const entries = new Map<string, Entry>();
  const merged: Entry[] = [];
  for (const pair of resolved.items) {
    const keyNode = pair.key as Node | null;
    if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
      throw source.error(keyNode ?? resolved, path || undefined, 'keys must be plain names');
    }
    const key = String(keyNode.value);
    const value = pair.value as Node | null;
    if (key === '<<') {
      merged.push(...mergedEntries(source, value, path));
      continue;
    }
    const entryPath = childPath(path, key);
    const resolvedValue = source.resolve(value, entryPath) ?? null;
    entries.set(key, { key, keyNode, value: resolvedValue, path: entryPath });
  }
  // Explicit keys win over merged ones, and earlier merge sources over later ones (YAML 1.1).
  for (const entry of merged) if (!entries.has(entry.key)) entries.set(entry.key, entry);
  return { node: resolved, path, entries };
}

/**
 * Most mappings merge keys may pull in while one config is read. Merges can nest and repeat
 * (`&b {<<: [*a, *a]}`), so a few lines can stand for billions of mappings.
 */
const MAX_MERGED_MAPPINGS = 10_000;
const mergedSoFar = new WeakMap<ConfigSource, number>();

function mergedEntries(source: ConfigSource, value: Node | null, path: string): Entry[] {
  const resolved = source.resolve(value, path);
  const sources = isSeq(resolved) ? resolved.items.map((item) => item as Node) : [resolved];
  const count = (mergedSoFar.get(source) ?? 0) + sources.length;
  mergedSoFar.set(source, count);
  if (count > MAX_MERGED_MAPPINGS) {
    throw source.error(value ?? undefined, path || undefined, `merge keys (<<) pull in more than ${MAX_MERGED_MAPPINGS} mappings (merges that repeat merges?); merge each anchor once`);
  }
  const result: Entry[] = [];
  const seen = new Set<string>();
  for (const item of sources) {
    for (const entry of readMapping(source, item, path, value ?? undefined).entries.values()) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      result.push(entry);
    }
  }
  return result;
}

/** Reads a list; throws when the node is something else. */
export function readList(source: ConfigSource, entry: Entry): { node: Node | null; path: string }[] {
  if (!isSeq(entry.value)) throw source.error(entry.value ?? entry.keyNode, entry.path, `expected a list (lines starting with "- "), got ${describeNode(entry.value)}`);
  return entry.value.items.map((item, i) => {
    const path = `${entry.path}[${i}]`;
    return { node: source.resolve(item as Node | null, path) ?? null, path };
  });
}

/**
 * Throws on the first key that is not allowed, suggesting the closest known key; warns
 * about known keys that are ignored.
 */
export function checkKeys(source: ConfigSource, mapping: Mapping, spec: KeySpec): void {
  const known = new Set(spec.known);
  for (const entry of mapping.entries.values()) {
    if (known.has(entry.key) || (spec.allowExtensions && entry.key.startsWith('x-'))) continue;
    const unsupported = spec.unsupported?.[entry.key];
    if (unsupported?.action === 'warn') {
      source.warn(entry.keyNode, entry.path, `ignored: ${unsupported.reason}`);
      continue;
    }
    if (unsupported) throw source.error(entry.keyNode, entry.path, `not supported: ${unsupported.reason}`);
    throw source.error(entry.keyNode, entry.path, describeUnknownKey(entry.key, spec));
  }
}

function describeUnknownKey(key: string, spec: KeySpec): string {
  const explanation = spec.explainUnknown?.(key);
  if (explanation) return `unknown key ${JSON.stringify(key)}: ${explanation}`;
  const suggestion = suggestKey(key, spec.known);
  if (suggestion) return `unknown key ${JSON.stringify(key)}; did you mean ${JSON.stringify(suggestion)}?`;
  if (spec.listKnown) return `unknown key ${JSON.stringify(key)} (accepted here: ${[...spec.known].sort().join(', ')})`;
  return `unknown key ${JSON.stringify(key)}`;
}

/** "a mapping", "a list", "a number"… for type errors that must not echo the value. */
export function describeNode(node: Node | null | undefined): string {
  if (isEmptyValue(node)) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (typeof value === 'string') return 'text';
    if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
    if (typeof value === 'boolean') return 'true/false';
  }
  return 'a value of another kind';
}
