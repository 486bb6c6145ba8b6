export { ConfigError, type ConfigLocation } from './config-error.ts';
export { parseDuration, formatDuration } from './duration.ts';
export { parseByteSize } from './byte-size.ts';
export { expandEnv, type Environment } from './env-expansion.ts';
export { CONFIG_DEFAULTS, defaultConfigPath } from './defaults.ts';
export { parseConfig, type ConfigOptions } from './parse-config.ts';
export { loadConfig } from './load-config.ts';
export type { LitestreamConfig, DatabaseConfig, ReplicaConfig, LoggingConfig, LogLevel } from './types.ts';
export { isSensitiveKey, REDACTED } from './redaction.ts';
