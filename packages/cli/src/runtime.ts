import type { Logger } from '@litestream-ts/core';
import { createLogger, parseLogLevel } from './logging/index.ts';
import type { LoggingConfig } from './config/index.ts';

/**
 * The logger of a command: the config's `logging` section (stdout unless `stderr: true`, as in
 * Litestream), `-log-level` over it, and every credential the command knows registered so it can
 * never be printed.
 */
export function commandLogger(
  logging: LoggingConfig | undefined,
  levelOverride: string | undefined,
  secrets: readonly string[] = [],
  options: { forceStderr?: boolean } = {},
): Logger {
  const level = levelOverride ? parseLogLevel(levelOverride) : (logging?.level ?? 'info');
  return createLogger({
    level,
    format: logging?.type ?? 'text',
    // Commands whose result goes to stdout (restore, status, -json) keep logs off it.
    stream: options.forceStderr || logging?.stderr ? process.stderr : process.stdout,
    secrets,
    source: logging?.source ?? false,
  });
}
