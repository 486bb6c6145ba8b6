// Typed readers for one entry's value. Each returns `undefined` for an empty value (the
// caller applies the default) and throws a `ConfigError` pointing at the value otherwise.
import { UsageError, parseByteSize, parseDuration } from '@litestream-ts/core';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ConfigSource } from './config-source.ts';
import { isSensitiveKey, quoteValue } from './redaction.ts';
import { describeNode, isEmptyValue, type Entry } from './yaml-nodes.ts';

/** The value as Go's YAML decoder hands it to a string field: a scalar's text as written. */
export function readText(source: ConfigSource, entry: Entry, expected = 'text'): string | undefined {
  if (isEmptyValue(entry.value)) return undefined;
  const text = scalarText(entry.value);
  if (text === undefined) throw source.error(entry.value, entry.path, `expected ${expected}, got ${describeNode(entry.value)}`);
  return text;
}

/** Longest path or URL a location setting may hold: Linux's PATH_MAX, which no file system exceeds. */
export const MAX_LOCATION_LENGTH = 4096;

/**
 * A location's text (a database path, a meta path, a replica URL or path). One longer than any
 * file system accepts is refused here, with a short preview, rather than sent to every check,
 * log line and system call that would each repeat it.
 */
export function readLocation(source: ConfigSource, entry: Entry): string | undefined {
  const text = readText(source, entry);
  if (text !== undefined && text.length > MAX_LOCATION_LENGTH) {
    throw source.error(entry.value, entry.path, `${JSON.stringify(`${text.slice(0, 32)}…`)} is ${text.length} characters long; a path or URL may have at most ${MAX_LOCATION_LENGTH}`);
  }
  // No file system call takes a path with a NUL character: refuse it here, not at the first open.
  if (text?.includes('\0')) throw source.error(entry.value, entry.path, `${quoteValue(entry.key, text)} contains a NUL character, which no path or URL can hold`);
  return text;
}

/** A duration (Go syntax) in milliseconds; negative ones are refused, and zero unless allowed. */
export function readDuration(source: ConfigSource, entry: Entry, bound: 'positive' | 'non-negative'): number | undefined {
  const text = readText(source, entry, 'a duration such as 10s or 1h30m');
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text.trim());
  } catch (cause) {
    throw rethrow(source, entry, cause);
  }
  if (ms < 0) throw source.error(entry.value, entry.path, `must not be negative, got ${quoteValue(entry.key, text)}`);
  if (ms === 0 && bound === 'positive') throw source.error(entry.value, entry.path, `must be greater than 0, got ${quoteValue(entry.key, text)}`);
  return ms;
}

/** A whole number ≥ 0 (page counts). */
export function readCount(source: ConfigSource, entry: Entry): number | undefined {
  if (isEmptyValue(entry.value)) return undefined;
  const value = isScalar(entry.value) ? entry.value.value : undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    const shown = scalarText(entry.value);
    throw source.error(entry.value, entry.path, `expected a whole number of 0 or more, got ${shown === undefined ? describeNode(entry.value) : quoteValue(entry.key, shown)}`);
  }
  return value;
}

// YAML 1.1 (Go's yaml.v2, which Litestream uses) also reads these words as booleans.
const YAML11_BOOLEANS: ReadonlyMap<string, boolean> = new Map([
  ['y', true], ['yes', true], ['on', true], ['true', true],
  ['n', false], ['no', false], ['off', false], ['false', false],
]);

/** `true`/`false` (and YAML 1.1's yes/no/on/off). */
export function readBoolean(source: ConfigSource, entry: Entry): boolean | undefined {
  if (isEmptyValue(entry.value)) return undefined;
  const value = isScalar(entry.value) ? entry.value.value : undefined;
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'string' ? YAML11_BOOLEANS.get(value.toLowerCase()) : undefined;
  if (word !== undefined) return word;
  const shown = scalarText(entry.value);
  throw source.error(entry.value, entry.path, `expected true or false, got ${shown === undefined ? describeNode(entry.value) : quoteValue(entry.key, shown)}`);
}

/** A byte size (`10MB`, `5MiB`, `5242880`) in bytes. */
export function readByteSize(source: ConfigSource, entry: Entry): number | undefined {
  const text = readText(source, entry, 'a size such as 10MB or 5MiB');
  if (text === undefined) return undefined;
  try {
    return parseByteSize(text);
  } catch (cause) {
    throw rethrow(source, entry, cause);
  }
}

/**
 * A backend setting as plain data for the backend's `fromConfig`: strings, numbers,
 * booleans and lists of them. Numbers whose text would not survive the conversion
 * (`0123`, `1.50`) and every value of a credential key stay text, as written.
 */
export function readSetting(source: ConfigSource, entry: Entry): unknown {
  return toSetting(source, entry.value, entry.key, entry.path, { left: MAX_SETTING_VALUES });
}

/**
 * Most values one setting may hold. Aliases can nest lists that repeat lists (`&b [*a, *a]`),
 * so a few lines of YAML can stand for billions of values; reading them would never end.
 */
const MAX_SETTING_VALUES = 10_000;

function toSetting(source: ConfigSource, node: Node | null, key: string, path: string, budget: { left: number }): unknown {
  if (isEmptyValue(node)) return undefined;
  if (--budget.left < 0) throw source.error(node, path, `holds more than ${MAX_SETTING_VALUES} values (aliases that repeat lists?); a setting takes a value or a short list`);
  if (isSeq(node)) {
    return node.items.map((item, i) => toSetting(source, source.resolve(item as Node | null, `${path}[${i}]`) ?? null, key, `${path}[${i}]`, budget));
  }
  if (isMap(node)) {
    const result: Record<string, unknown> = {};
    for (const pair of node.items) {
      const childKey = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const childPath = `${path}.${childKey}`;
      result[childKey] = toSetting(source, source.resolve(pair.value as Node | null, childPath) ?? null, childKey, childPath, budget);
    }
    return result;
  }
  if (!isScalar(node)) throw source.error(node, path, `unexpected ${describeNode(node)}`);
  const value = node.value;
  const text = scalarText(node) ?? '';
  if (typeof value === 'string') return value;
  if (isSensitiveKey(key) && value !== null) return text;
  if (typeof value === 'number') return String(value) === text ? value : text;
  if (typeof value === 'boolean') return value;
  return text;
}

/** A scalar's text: strings as parsed, other scalars as written in the file. */
export function scalarText(node: Node | null | undefined): string | undefined {
  if (!isScalar(node) || node.value === null) return undefined;
  if (typeof node.value === 'string') return node.value;
  const written = (node as { source?: unknown }).source;
  return typeof written === 'string' && written !== '' ? written : String(node.value);
}

function rethrow(source: ConfigSource, entry: Entry, cause: unknown): Error {
  if (!(cause instanceof UsageError)) return cause as Error;
  // The parser's message quotes the text. Credentials must not leak through it, so a
  // credential key shows `****` and the original error is not kept as the cause (whose
  // message the scrubber never sees).
  const text = scalarText(entry.value) ?? '';
  const message = isSensitiveKey(entry.key) ? cause.message.split(JSON.stringify(text)).join(quoteValue(entry.key, text)) : cause.message;
  return source.error(entry.value, entry.path, message);
}
