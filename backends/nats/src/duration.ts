import { UsageError } from '@litestream-ts/core';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go duration (`500ms`, `2s`, `1m30s`) into milliseconds, as Litestream's config
 * reads `reconnect-wait` and `timeout`. A bare number is refused (Go would read nanoseconds),
 * except 0.
 */
export function parseDuration(key: string, value: unknown): number {
  if (value === 0 || value === '0') return 0;
  if (typeof value !== 'string') throw new UsageError(`nats "${key}" must be a duration such as "2s" or "500ms", got ${JSON.stringify(value)}`);
  const text = value.trim();
  const parts = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/.test(text) ? text.match(/\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)/g) : null;
  if (!parts) throw new UsageError(`nats "${key}" must be a duration such as "2s" or "500ms", got ${JSON.stringify(value)}`);
  let ms = 0;
  for (const part of parts) {
    const [, amount = '', unit = ''] = /^([\d.]+)(.+)$/.exec(part)!;
    ms += Number(amount) * UNIT_MS[unit]!;
  }
  return Math.round(ms);
}
