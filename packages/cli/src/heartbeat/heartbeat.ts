import { formatDuration, type Logger, type SyncStatus } from '@litestream-ts/core';
import { HEARTBEAT_REQUEST_TIMEOUT } from './heartbeat-defaults.ts';

/** What {@link Heartbeat} needs. */
export interface HeartbeatOptions {
  /** The http(s) URL to GET. Logged only through `logger`, which must hide its secret parts. */
  readonly url: string;
  /** Milliseconds between pings, and how recent each database's last successful sync must be. */
  readonly interval: number;
  /** The status of every database being replicated now (stopped ones are left out). */
  readonly statuses: () => readonly SyncStatus[];
  readonly logger: Logger;
  /** How often the conditions are checked (default: a quarter of the interval, at most 15 s). */
  readonly checkEvery?: number;
  /** Clock (tests). */
  readonly now?: () => number;
}

/** Why no ping may go out now, or undefined when every database is fine. */
export function unhealthyReason(statuses: readonly SyncStatus[], interval: number, now: number): string | undefined {
  if (statuses.length === 0) return 'no database is being replicated';
  for (const s of statuses) {
    if (s.lastError !== undefined) return `${s.path}: sync failing: ${s.lastError}`;
    if (!s.healthy) return `${s.path}: its replica holds a corrupt file, awaiting repair`;
    // An idle database whose replica holds everything is as good as synced just now.
    const recent = s.lastSyncAt !== undefined && now - s.lastSyncAt.getTime() <= interval;
    if (!s.inSync && !recent) return `${s.path}: no successful sync within ${formatDuration(interval)}`;
  }
  return undefined;
}

/**
 * A dead man's switch (healthchecks.io, Cronitor, …): an HTTP GET to the URL every interval,
 * sent only while every database has synced successfully within the interval and none is
 * failing. The service raises the alarm when pings stop. A failed ping is logged once per run
 * of failures, and the end of the run once; withheld pings likewise.
 */
export class Heartbeat {
  private readonly options: HeartbeatOptions;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private inFlight: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private failures = 0;
  private withheld: string | undefined;

  constructor(options: HeartbeatOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Starts checking; the first ping goes out at the first check that finds everything synced. */
  start(): void {
    if (this.timer) return;
    const every = this.options.checkEvery ?? Math.min(15_000, Math.max(50, Math.floor(this.options.interval / 4)));
    this.options.logger.info('heartbeat enabled', { url: this.options.url, interval: formatDuration(this.options.interval) });
    this.timer = setInterval(() => this.check(), every);
    this.timer.unref();
  }

  /** Stops checking and abandons a ping under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await this.inFlight;
  }

  /** One check: pings when the interval has passed since the last attempt and every database is fine. */
  check(): void {
    if (this.inFlight || this.abort.signal.aborted) return;
    const now = this.now();
    if (now - this.lastAttempt < this.options.interval) return;
    const reason = unhealthyReason(this.options.statuses(), this.options.interval, now);
    if (reason !== undefined) {
      if (this.withheld === undefined) this.options.logger.warn('heartbeat withheld', { reason });
      this.withheld = reason;
      return;
    }
    if (this.withheld !== undefined) this.options.logger.info('heartbeat conditions met again');
    this.withheld = undefined;
    // The interval counts from the attempt, so a failing endpoint is not hammered.
    this.lastAttempt = now;
    this.inFlight = this.ping().finally(() => {
      this.inFlight = undefined;
    });
  }

  private async ping(): Promise<void> {
    const { url, logger } = this.options;
    try {
      const timeout = AbortSignal.timeout(Math.min(HEARTBEAT_REQUEST_TIMEOUT, this.options.interval));
      const response = await fetch(url, { signal: AbortSignal.any([timeout, this.abort.signal]) });
      await response.body?.cancel().catch(() => {});
      if (!response.ok) throw new Error(`unexpected HTTP status ${response.status}`);
    } catch (err) {
      if (this.abort.signal.aborted) return;
      if (this.failures === 0) logger.error('heartbeat ping failed', { url, error: describe(err) });
      this.failures += 1;
      return;
    }
    if (this.failures > 0) logger.info('heartbeat ping succeeded again', { url, after: this.failures });
    else logger.debug('heartbeat ping sent', { url });
    this.failures = 0;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: string; message?: string } | undefined;
  if (err.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ? `${err.message} (${cause.code})` : cause?.message ? `${err.message}: ${cause.message}` : err.message;
}
