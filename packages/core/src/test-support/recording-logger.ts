import type { LogFields, Logger } from '../engine/logger.ts';

/** One line a `RecordingLogger` received. */
export interface LogRecord {
  readonly level: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

/** A logger that keeps every line, for assertions (tests only). */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[];
  private readonly base: LogFields;

  constructor(records: LogRecord[] = [], base: LogFields = {}) {
    this.records = records;
    this.base = base;
  }

  trace(message: string, fields?: LogFields): void {
    this.record('trace', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.record('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.record('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.record('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.record('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new RecordingLogger(this.records, { ...this.base, ...fields });
  }

  /** Lines at one level. */
  at(level: LogRecord['level']): LogRecord[] {
    return this.records.filter((r) => r.level === level);
  }

  private record(level: LogRecord['level'], message: string, fields: LogFields = {}): void {
    this.records.push({ level, message, fields: { ...this.base, ...fields } });
  }
}
