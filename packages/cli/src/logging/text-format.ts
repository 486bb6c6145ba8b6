import { fieldKey, type LogRecord } from './log-record.ts';
import type { LogObject, LogValue } from './log-value.ts';

/**
 * One line in the style of Go's slog text handler, which Litestream uses:
 * `time=… level=INFO msg="initialized db" db=/data/app.db`. Nested objects are flattened
 * with dotted keys (`a.b=1`), as slog prints groups; arrays are printed as JSON.
 */
export function formatText(record: LogRecord): string {
  const parts = [`time=${record.time.toISOString()}`, `level=${record.level}`];
  if (record.source) parts.push(`source=${quote(`${record.source.file}:${record.source.line}`)}`);
  parts.push(`msg=${quote(record.message)}`);
  appendFields(parts, '', record.fields);
  return parts.join(' ');
}

function appendFields(parts: string[], prefix: string, fields: LogObject): void {
  for (const [key, value] of Object.entries(fields)) {
    const name = prefix ? `${prefix}.${key}` : fieldKey(key);
    if (isObject(value)) appendFields(parts, name, value);
    else parts.push(`${quote(name)}=${textValue(value)}`);
  }
}

function textValue(value: Exclude<LogValue, LogObject>): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return quote(JSON.stringify(value));
}

function isObject(value: LogValue): value is LogObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Quotes the way slog does: only when needed (empty, spaces, `=`, quotes, backslashes or
 * unprintable characters), so plain values stay easy to grep.
 */
export function quote(text: string): string {
  return text === '' || /[\s="\\\p{C}]/u.test(text) ? JSON.stringify(text) : text;
}
