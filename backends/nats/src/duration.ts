import { UsageError, parseDuration as parseGoDuration } from '@litestream-ts/core';

/**
 * Reads a NATS duration setting (`reconnect-wait`, `timeout`) in milliseconds, with the Go
 * syntax Litestream's config uses (`500ms`, `2s`, `1m30s`): core's parser, with the key named.
 */
export function parseDuration(key: string, value: unknown): number {
  if (value === 0) return 0;
  if (typeof value === 'string') {
    try {
      const ms = parseGoDuration(value.trim());
      if (ms >= 0) return Math.round(ms);
    } catch {
      // reported below with the key
    }
  }
  throw new UsageError(`nats "${key}" must be a duration such as "2s" or "500ms", got ${JSON.stringify(value)}`);
}
