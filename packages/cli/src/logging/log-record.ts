import type { LogSource } from './log-source.ts';
import type { LogObject } from './log-value.ts';

/** One line to write, after level filtering and redaction. */
export interface LogRecord {
  readonly time: Date;
  /** Printed level name (`INFO`, `TRACE`…). */
  readonly level: string;
  readonly message: string;
  readonly fields: LogObject;
  /** Where the line was logged from, when `logging.source` asks for it. */
  readonly source?: LogSource;
}

/** The keys every line starts with; a field by the same name is printed as `field.<name>`. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'source', 'msg']);

/** The field key as printed, moved out of the way of the built-in keys. */
export function fieldKey(key: string): string {
  return RESERVED_KEYS.has(key) ? `field.${key}` : key;
}
