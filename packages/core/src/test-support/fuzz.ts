/**
 * Settings shared by the fuzz tests (`*.fuzz.test.ts`, property-based with fast-check).
 *
 * A plain test run (CI) does a few dozen to a few hundred runs per property, a few seconds
 * per file. The environment turns that into a soak (`scripts/fuzz.sh` sets these):
 *
 * - `LTS_FUZZ_RUNS`: runs per property (default: each property's own small number);
 * - `LTS_FUZZ_SECONDS`: stop a property after this many seconds, passed (a time box for long runs);
 * - `LTS_FUZZ_SEED` and `LTS_FUZZ_PATH`: replay a failure (fast-check prints both);
 * - `LTS_FUZZ_HANG_MS`: how long one input may take before it counts as a hang (default 10 s).
 *
 * On failure fast-check prints the seed, the shrunk counterexample and the path to it.
 */
import fc from 'fast-check';

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${name}=${JSON.stringify(text)} is not a number`);
  return value;
}

/** Time one input may take before the property fails as a hang (generous: it catches loops, not slowness). */
export const HANG_MS = envNumber('LTS_FUZZ_HANG_MS') ?? 10_000;

/** Runs per property: `LTS_FUZZ_RUNS`, or `ciRuns` for an ordinary test run. */
export function fuzzRuns(ciRuns: number): number {
  return Math.max(1, Math.floor(envNumber('LTS_FUZZ_RUNS') ?? ciRuns));
}

/**
 * fast-check parameters for one property: the number of runs, the seed and path to replay,
 * a time box for soaks, and (for async properties) a per-run timeout that turns a hang into
 * a failure with its counterexample.
 */
export function fuzzParameters<T>(ciRuns: number): fc.Parameters<T> {
  const seed = envNumber('LTS_FUZZ_SEED');
  const path = process.env.LTS_FUZZ_PATH;
  const seconds = envNumber('LTS_FUZZ_SECONDS');
  return {
    numRuns: fuzzRuns(ciRuns),
    ...(seed === undefined ? {} : { seed }),
    ...(path ? { path, endOnFailure: true } : {}),
    ...(seconds === undefined ? {} : { interruptAfterTimeLimit: seconds * 1000 }),
    timeout: HANG_MS,
  };
}

/** Vitest timeout for a fuzz test: its time box (when set) plus room to shrink a failure. */
export function fuzzTestTimeout(ciMs = 60_000): number {
  const seconds = envNumber('LTS_FUZZ_SECONDS');
  const runs = envNumber('LTS_FUZZ_RUNS');
  if (seconds !== undefined) return seconds * 1000 + 120_000;
  // Without a time box, many runs need room in proportion.
  return runs === undefined ? ciMs : Math.max(ciMs, runs * 200);
}

/** An error class, for `expectTyped`. */
type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Rethrows `error` unless it is an instance of one of `allowed` (the project's typed
 * errors): a plain TypeError or RangeError escaping a parser is the bug fuzzing looks for.
 * Returns the error, typed, for further checks.
 */
export function expectTyped<E extends Error>(error: unknown, allowed: readonly ErrorClass[]): E {
  if (allowed.some((type) => error instanceof type)) return error as E;
  if (error instanceof Error) {
    error.message = `untyped ${error.name} escaped (expected ${allowed.map((t) => t.name).join(' or ')}): ${error.message}`;
    throw error;
  }
  throw new Error(`a non-Error was thrown: ${String(error)}`);
}

/**
 * Runs a synchronous function and fails when it took longer than `HANG_MS`. Synchronous code
 * cannot be interrupted, so this catches super-linear blow-ups on small inputs (a true
 * infinite loop still hangs the test, which then times out).
 */
export function withinHangBound<T>(what: string, fn: () => T): T {
  const start = performance.now();
  try {
    return fn();
  } finally {
    const ms = performance.now() - start;
    if (ms > HANG_MS) throw new Error(`${what} took ${Math.round(ms)} ms (hang bound ${HANG_MS} ms)`);
  }
}

/** Deterministic bytes from a seed (mulberry32), so big buffers shrink through their seed, not byte by byte. */
export function seededBytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** Splits `bytes` into chunks at the given cut points (fractions of the length), to exercise chunk boundaries. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const offsets = [...new Set(cuts.map((c) => Math.floor(c * bytes.byteLength)))].filter((o) => o > 0 && o < bytes.byteLength).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.byteLength]) {
    chunks.push(bytes.subarray(start, offset));
    start = offset;
  }
  return chunks;
}

/** An async iterable over fixed chunks (copies, so a decoder that keeps views sees stable bytes). */
export async function* fromChunks(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield Buffer.from(chunk);
}

/** Characters that make URL and path parsers work: separators, escapes, brackets, odd bytes. */
const URL_CHARS = [
  ...'abcxyz019-_.~',
  ...'/:@?#&=%[]',
  '%2F', '%25', '%zz', '%', '%00', '%C3%A9', '%E0%A4%A', '..', '//', '\\', ' ', '\t', '\n', '\u0000', 'é', '\u{1F600}', '\uD800',
  'localhost', '127.0.0.1', '[::1]', ':9000', 'arn:aws:s3:us-east-1:123:accesspoint/ap', '.s3.us-west-000.backblazeb2.com', '.blob.core.windows.net',
  'user:pass@', 'user@',
];

/** Text built from URL-ish pieces, optionally after a scheme. */
export function urlLike(schemes: readonly string[] = []): fc.Arbitrary<string> {
  const body = fc.array(fc.constantFrom(...URL_CHARS), { maxLength: 24 }).map((parts) => parts.join(''));
  if (schemes.length === 0) return body;
  const prefix = fc.constantFrom(...schemes.flatMap((s) => [`${s}://`, `${s.toUpperCase()}://`, `${s}:/`, `${s}:`, `${s}:///`]));
  return fc.oneof({ arbitrary: fc.tuple(prefix, body).map(([p, b]) => p + b), weight: 4 }, { arbitrary: fc.string({ maxLength: 40 }), weight: 1 }, { arbitrary: body, weight: 1 });
}

/** A value a config entry may hand a backend: text (URL-ish or not), numbers, booleans, null, lists, mappings. */
export function settingValue(texts: readonly fc.Arbitrary<unknown>[] = []): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(
    fc.string({ maxLength: 16 }),
    urlLike(),
    fc.constantFrom('', ' ', 'true', 'false', 'yes', '0', '1', '-1', '10s', '500ms', '5MB', '5MiB', '1e3', 'NaN', 'null', '~', '$HOME'),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    ...texts,
  );
  return fc.oneof({ arbitrary: scalar, weight: 8 }, { arbitrary: fc.array(scalar, { maxLength: 3 }), weight: 1 }, { arbitrary: fc.dictionary(fc.string({ maxLength: 6 }), scalar, { maxKeys: 3 }), weight: 1 });
}

/** A settings record over `keys` (any subset) with arbitrary values. */
export function settingsFor(keys: readonly string[], value: fc.Arbitrary<unknown> = settingValue()): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(keys.map((key) => [key, value])), { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
}
