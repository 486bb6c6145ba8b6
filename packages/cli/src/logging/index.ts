export { createLogger, type LoggerOptions } from './logger.ts';
export { LOG_LEVELS, parseLogLevel, type LogLevel } from './levels.ts';
export { Redactor, REDACTED } from './redactor.ts';
export { isSecretKey } from './secret-keys.ts';
