import { REDACTED, type Redactor } from './redactor.ts';
import { isSecretKey } from './secret-keys.ts';

/** A field value after redaction: plain data that both formats can print. */
export type LogValue = string | number | boolean | null | readonly LogValue[] | LogObject;

/** Named values: the fields of a line, or a nested object among them. */
export type LogObject = { readonly [key: string]: LogValue };

// Deep enough for any structured field; deeper data is a mistake, not something to print whole.
const MAX_DEPTH = 6;

/**
 * Turns arbitrary fields into printable data with every credential hidden: values under
 * credential-like names become `[REDACTED]`, and every string that reaches the output
 * (messages of errors included) goes through the redactor. Undefined values are dropped.
 */
export function toLogObject(fields: Readonly<Record<string, unknown>>, redactor: Redactor): LogObject {
  return objectEntries(Object.entries(fields), redactor, new Set(), 0);
}

function toLogValue(value: unknown, redactor: Redactor, seen: Set<object>, depth: number): LogValue {
  switch (typeof value) {
    case 'string':
      return redactor.redact(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      // A string keeps every digit; JSON numbers lose them past 2^53.
      return value.toString();
    case 'undefined':
      return null;
    case 'symbol':
      return redactor.redact(value.toString());
    case 'function':
      return `[function ${value.name || 'anonymous'}]`;
  }
  if (value === null) return null;
  if (value instanceof Error) return redactor.redact(errorText(value));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (value instanceof URL) return redactor.redact(value.href);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  const object = value as object;
  if (seen.has(object)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item) => toLogValue(item, redactor, seen, depth + 1));
    if (object instanceof Set) return [...object].map((item) => toLogValue(item, redactor, seen, depth + 1));
    const entries = object instanceof Map ? [...object].map(([k, v]) => [String(k), v] as const) : Object.entries(object);
    return objectEntries(entries, redactor, seen, depth + 1);
  } finally {
    seen.delete(object);
  }
}

function objectEntries(entries: ReadonlyArray<readonly [string, unknown]>, redactor: Redactor, seen: Set<object>, depth: number): LogObject {
  const result: Record<string, LogValue> = {};
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    // Keys are data too (a Map keyed by URL), so they are scrubbed like values.
    result[redactor.redact(key)] = isSecretKey(key) ? REDACTED : toLogValue(value, redactor, seen, depth);
  }
  return result;
}

/**
 * An error as one line: its message, then the messages of its causes, the way Go prints a
 * wrapped error (`upload failed: connect ECONNREFUSED`), so the root cause is not lost.
 */
function errorText(error: Error): string {
  let text = error.message || error.name;
  let cause: unknown = error.cause;
  for (let i = 0; i < 5 && cause !== undefined && cause !== null; i++) {
    const message = cause instanceof Error ? cause.message : String(cause);
    if (message && !text.includes(message)) text += `: ${message}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}
