export { ConfigError, type ConfigLocation } from './config-error.ts';
// Value parsers live in core, shared with the backends that read durations and sizes themselves.
export { parseDuration, formatDuration, parseByteSize } from '@litestream-ts/core';
export { expandEnv, type Environment } from './env-expansion.ts';
export { CONFIG_DEFAULTS, defaultConfigPath } from './defaults.ts';
export { parseConfig, type ConfigOptions } from './parse-config.ts';
export { loadConfig, type LoadConfigOptions } from './load-config.ts';
export { configPlugins } from './plugins-section.ts';
export type { LitestreamConfig, DatabaseConfig, DirectoryConfig, ReplicaConfig, LoggingConfig, LogLevel } from './types.ts';
export { isSensitiveKey, REDACTED } from './redaction.ts';
