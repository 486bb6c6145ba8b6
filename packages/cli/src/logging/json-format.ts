import { fieldKey, type LogRecord } from './log-record.ts';
import type { LogValue } from './log-value.ts';

/**
 * One JSON object per line: `{"time":…,"level":"INFO","msg":…, …fields}`, as slog's JSON handler
 * (with `"source":{"function","file","line"}` before `msg` when asked for).
 */
export function formatJSON(record: LogRecord): string {
  const line: Record<string, LogValue> = { time: record.time.toISOString(), level: record.level };
  if (record.source) line.source = { ...record.source };
  line.msg = record.message;
  for (const [key, value] of Object.entries(record.fields)) line[fieldKey(key)] = value;
  return JSON.stringify(line);
}
