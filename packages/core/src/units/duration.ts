import { UsageError } from '../ltx/errors.ts';

/** Nanoseconds per unit of Go's `time.ParseDuration`. */
const UNIT_NANOS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5 micro sign
  'μs': 1e3, // U+03BC Greek mu
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

// Go stores durations as int64 nanoseconds; longer ones are rejected there, so here too.
const MAX_NANOS = 9_223_372_036_854_775_807;

/** The hint every duration error ends with. */
export const DURATION_HINT = 'use forms like 1s, 500ms, 1h30m';

/**
 * Parses a duration in Go's `time.ParseDuration` syntax (what Litestream's config uses) and
 * returns milliseconds, possibly fractional (`1us` is 0.001). The text is an optional sign,
 * then either `0` or a sequence of decimal numbers, each with an optional fraction and a unit
 * among `ns`, `us` (`µs`), `ms`, `s`, `m`, `h`: `1h30m`, `1.5s`, `500ms`, `-2m`.
 * Negative results are returned as such; callers decide where they make sense.
 * Throws `UsageError` naming the text otherwise.
 */
export function parseDuration(text: string): number {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest.startsWith('-');
    rest = rest.slice(1);
  }
  // Go accepts a bare zero (and only zero) without a unit.
  if (rest === '0') return 0;
  if (rest === '') throw invalid(text);
  let nanos = 0;
  while (rest !== '') {
    const match = /^(\d*)(?:\.(\d*))?/.exec(rest);
    const whole = match?.[1] ?? '';
    const fraction = match?.[2] ?? '';
    if (whole === '' && fraction === '') throw invalid(text);
    rest = rest.slice(match![0].length);
    const unitMatch = /^[^\d.]*/.exec(rest);
    const unit = unitMatch?.[0] ?? '';
    if (unit === '') throw invalid(text, /^[+-]?[\d.]+$/.test(text) ? 'a unit is required' : undefined);
    const scale = UNIT_NANOS[unit];
    if (scale === undefined) throw invalid(text);
    rest = rest.slice(unit.length);
    nanos += Number(whole || '0') * scale + (fraction === '' ? 0 : Number(`0.${fraction}`) * scale);
    if (nanos > MAX_NANOS) throw invalid(text, 'too long (durations are limited to about 292 years)');
  }
  // Go keeps whole nanoseconds; dropping the rest here keeps `1.0000000001s` equal to `1s`.
  const ms = Math.trunc(nanos) / 1e6;
  return negative && ms !== 0 ? -ms : ms;
}

/** Formats milliseconds the way Go prints a `time.Duration` (`1h30m0s`, `500ms`, `0s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let nanos = Math.round(Math.abs(ms) * 1e6);
  if (nanos < 1e9) {
    if (nanos < 1e3) return `${sign}${nanos}ns`;
    if (nanos < 1e6) return `${sign}${trimFraction(nanos / 1e3)}µs`;
    return `${sign}${trimFraction(nanos / 1e6)}ms`;
  }
  const hours = Math.floor(nanos / 3600e9);
  nanos -= hours * 3600e9;
  const minutes = Math.floor(nanos / 60e9);
  nanos -= minutes * 60e9;
  const seconds = trimFraction(nanos / 1e9);
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

function trimFraction(value: number): string {
  return String(Number(value.toFixed(9)));
}

function invalid(text: string, reason?: string): UsageError {
  return new UsageError(`invalid duration ${JSON.stringify(text)}${reason ? `: ${reason}` : ''} (${DURATION_HINT})`);
}
