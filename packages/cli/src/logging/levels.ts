import { CliError } from '../cli-error.ts';

/** A log level, least to most severe. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** Every level, least severe first. */
export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/** Severity rank of a level: a line is written when its rank is at least the logger's. */
export function levelRank(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/**
 * The name printed in the `level` field. TRACE is below slog's DEBUG; Litestream prints it as
 * `TRACE` rather than slog's `DEBUG-4`, and so do we.
 */
export function levelName(level: LogLevel): string {
  return level.toUpperCase();
}

/**
 * Reads a level as given on the command line, in `LOG_LEVEL` or in `logging.level`:
 * case-insensitive, with Litestream's `warning` alias. Anything else is an error that lists
 * the valid levels (Litestream silently falls back to INFO, which hides typos).
 */
export function parseLogLevel(text: string): LogLevel {
  const normalized = text.trim().toLowerCase();
  if (normalized === 'warning') return 'warn';
  const found = LOG_LEVELS.find((level) => level === normalized);
  if (found) return found;
  throw new CliError(`invalid log level ${JSON.stringify(text)}: expected one of ${LOG_LEVELS.join(', ')}`);
}
