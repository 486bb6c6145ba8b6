import { UsageError } from '../ltx/errors.ts';
import { parseDuration } from '../units/duration.ts';

/**
 * How long a replica's storage calls may wait, in milliseconds. Every backend takes these as
 * client options (`connectTimeout`, `requestTimeout`), and a replica config entry as
 * `connect-timeout` and `request-timeout` (durations).
 */
export interface StorageTimeouts {
  /**
   * How long one attempt may wait for a connection to the store (TCP and TLS, or the
   * protocol's own handshake: SSH, NATS) before it fails. Enforced by each backend's SDK.
   * Default 10 s; 0 leaves it to the SDK and the operating system.
   */
  readonly connectTimeout?: number;
  /**
   * How long a storage call may go without progress before it fails: no answer, and no byte
   * sent or received, for this long. A large upload or download that keeps moving is never cut
   * short, however long it takes. Counted by `ReplicaClient` across the whole call (the SDK's
   * own retries included), so a stalled store surfaces as an error within this time.
   * Default 30 s; 0 disables it.
   */
  readonly requestTimeout?: number;
}

/** Default `connectTimeout`: 10 s. */
export const DEFAULT_CONNECT_TIMEOUT = 10_000;
/** Default `requestTimeout`: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT = 30_000;

/** The config keys of the storage timeouts, accepted in every replica entry (and at the top level). */
export const STORAGE_TIMEOUT_KEYS = { 'connect-timeout': 'connectTimeout', 'request-timeout': 'requestTimeout' } as const;

/** Timeouts with defaults filled in; throws `UsageError` naming a value that is not a non-negative number of ms. */
export function resolveStorageTimeouts(timeouts: StorageTimeouts = {}): Required<StorageTimeouts> {
  return {
    connectTimeout: checked('connectTimeout', timeouts.connectTimeout) ?? DEFAULT_CONNECT_TIMEOUT,
    requestTimeout: checked('requestTimeout', timeouts.requestTimeout) ?? DEFAULT_REQUEST_TIMEOUT,
  };
}

/**
 * Reads `connect-timeout` and `request-timeout` from a replica config entry: a duration text
 * (`10s`, `1m30s`) or a number of milliseconds. Unset or blank keys are left out.
 */
export function storageTimeoutsFromConfig(config: Readonly<Record<string, unknown>>): StorageTimeouts {
  const out: { -readonly [K in keyof StorageTimeouts]: StorageTimeouts[K] } = {};
  for (const [key, option] of Object.entries(STORAGE_TIMEOUT_KEYS)) {
    const value = config[key];
    if (value === undefined || value === null || value === '') continue;
    let ms: number;
    if (typeof value === 'number') ms = value;
    else if (typeof value === 'string') ms = parseDuration(value.trim());
    else throw new UsageError(`replica "${key}" must be a duration such as 10s, got ${Array.isArray(value) ? 'a list' : typeof value}`);
    if (!(Number.isFinite(ms) && ms >= 0)) throw new UsageError(`replica "${key}" must not be negative, got ${String(value)}`);
    out[option] = ms;
  }
  return out;
}

function checked(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new UsageError(`${name} must be a non-negative number of milliseconds, got ${String(value)}`);
  return value;
}

/** `1.5s`, `250ms`, `2m`: a timeout for messages. */
export function formatTimeout(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Math.round(ms)}ms`;
}
