/** Structured fields attached to a log line. Never put credentials in them. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * Where the engine reports what it does. The CLI maps this onto text or JSON output; a
 * library user can pass their own (pino, console…). Messages are short and stable, since
 * operators grep for them (`initialized db`, `sync error`, `checkpoint completed`…).
 */
export interface Logger {
  trace(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (for example `{ db: path }`). */
  child(fields: LogFields): Logger;
}

/** Discards everything. */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
