import type { LogFields, Logger } from '@litestream-ts/core';
import { formatJSON } from './json-format.ts';
import { levelName, levelRank, type LogLevel } from './levels.ts';
import type { LogRecord } from './log-record.ts';
import { callerSource } from './log-source.ts';
import { toLogObject } from './log-value.ts';
import { Redactor } from './redactor.ts';
import { formatText } from './text-format.ts';

/** How {@link createLogger} writes. */
export interface LoggerOptions {
  /** Lines below this level are dropped. */
  readonly level: LogLevel;
  /** `text`: slog-style `key=value` lines; `json`: one object a line. */
  readonly format: 'text' | 'json';
  readonly stream: NodeJS.WritableStream;
  /** Credential values to hide wherever they appear (messages, fields, error messages). */
  readonly secrets?: readonly string[];
  /** Clock for the `time` field (tests). */
  readonly now?: () => Date;
  /** Add where each line was logged from (`source=FILE:LINE`), as Litestream's `logging.source`. */
  readonly source?: boolean;
}

/** What every logger derived from one {@link createLogger} call shares. */
interface Sink {
  readonly minRank: number;
  readonly format: (record: LogRecord) => string;
  readonly stream: NodeJS.WritableStream;
  readonly redactor: Redactor;
  readonly now: () => Date;
  readonly source: boolean;
}

/**
 * A {@link Logger} writing one line per call to `stream`, in Litestream's text or JSON shape,
 * with credentials redacted (see `secret-keys.ts` and `redactor.ts`).
 */
export function createLogger(options: LoggerOptions): Logger {
  return new LineLogger(
    {
      minRank: levelRank(options.level),
      format: options.format === 'json' ? formatJSON : formatText,
      stream: options.stream,
      redactor: new Redactor(options.secrets),
      now: options.now ?? (() => new Date()),
      source: options.source ?? false,
    },
    {},
  );
}

class LineLogger implements Logger {
  private readonly sink: Sink;
  private readonly fields: LogFields;

  constructor(sink: Sink, fields: LogFields) {
    this.sink = sink;
    this.fields = fields;
  }

  trace(message: string, fields?: LogFields): void {
    this.write('trace', message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  child(fields: LogFields): Logger {
    return new LineLogger(this.sink, { ...this.fields, ...fields });
  }

  private write(level: LogLevel, message: string, fields: LogFields | undefined): void {
    const sink = this.sink;
    // Filter before any formatting: trace calls are frequent and usually off.
    if (levelRank(level) < sink.minRank) return;
    let record: LogRecord = {
      time: sink.now(),
      level: levelName(level),
      message: sink.redactor.redact(message),
      fields: toLogObject(fields ? { ...this.fields, ...fields } : this.fields, sink.redactor),
    };
    if (sink.source) {
      const source = callerSource(import.meta.url);
      if (source) record = { ...record, source };
    }
    // One write per line, so lines from concurrent tasks never interleave mid-line.
    sink.stream.write(`${sink.format(record)}\n`);
  }
}
