import { randomInt } from 'node:crypto';
import { FaultContext, type FaultArrival, type FaultEvent } from './fault-context.ts';
import { startHttpFaultServer } from './fault-proxy-http.ts';
import { startTcpFaultServer } from './fault-proxy-tcp.ts';
import { FaultPolicy, HTTP_FAULT_KINDS, TCP_FAULT_KINDS, type FaultKind, type FaultWindow } from './fault-policy.ts';
import type { FaultDialect } from './fault-responses.ts';

export type { FaultArrival, FaultEvent } from './fault-context.ts';
export { HTTP_FAULT_KINDS, TCP_FAULT_KINDS, type FaultKind, type FaultWindow } from './fault-policy.ts';
export type { FaultDialect } from './fault-responses.ts';

/** Options for {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /**
   * The real service. `http://host:port`: a reverse proxy that injects faults per request
   * (every {@link FaultKind}). `tcp://host:port`: a byte proxy that injects faults per
   * connection (`reset`, `stall`, `slow`, `truncate`), for services that do not speak HTTP.
   */
  readonly upstream: string;
  /** Error bodies for `status-500`/`status-503`/`slowdown`: S3's XML, Azure's XML, or text. Default `plain`. */
  readonly dialect?: FaultDialect;
  /** PRNG seed (default: random). Read it back from `proxy.seed` and pass it again to replay a run. */
  readonly seed?: number;
  /** Fraction (0..1) of requests or connections that get a fault. Default 0: forward everything. */
  readonly rate?: number;
  /** Kinds dealt at `rate`. Default: every kind this proxy can inject. */
  readonly kinds?: readonly FaultKind[];
  /** How long a stall drawn at `rate` holds a request before closing its connection. Default 3000 ms. */
  readonly stallMs?: number;
  /** Throughput of a `slow` request or connection, each direction. Default 32 KiB/s. */
  readonly slowBytesPerSecond?: number;
  /** How late a `slow` answer starts. Default 1000 ms. */
  readonly slowDelayMs?: number;
  /** TCP only: a `truncate`d connection passes between 1 and this many of the server's bytes. Default 1024. */
  readonly truncateBytes?: number;
}

/** How many requests (HTTP) or connections (TCP) got each fault, and how many went through untouched. */
export type FaultCounts = Readonly<Record<FaultKind | 'forwarded', number>>;

/** A running fault proxy in front of one real service. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT` (or `tcp://…`): point the client under test here. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The PRNG seed in use: print it with a failure, pass it as `seed` to replay. */
  readonly seed: number;
  /** The kinds this proxy can inject (all for HTTP, the raw ones for TCP). */
  readonly kinds: readonly FaultKind[];
  /** Faults at `rate` of arrivals from now on, dealt from `kinds` (default: all this proxy can inject). */
  setRate(rate: number, kinds?: readonly FaultKind[]): void;
  /**
   * Every arrival gets `kind` until cleared with `undefined`. `stall` also freezes what is being
   * forwarded; when the mode is cleared, every stalled connection is closed.
   */
  setMode(kind: FaultKind | undefined): void;
  /** Fault windows relative to now, e.g. `{ kind: 'stall', fromMs: 1000, toMs: 4000 }`; resolves when the last one ends. */
  schedule(windows: readonly FaultWindow[]): Promise<void>;
  /**
   * Holds new arrivals unanswered until {@link resume} (no fault is counted: a control for test
   * harnesses, e.g. to quiesce a server before killing it). What is already forwarded goes on.
   */
  pause(): void;
  resume(): void;
  /** Requests or connections being forwarded to the upstream now. */
  inFlight(): number;
  counts(): FaultCounts;
  /** Every fault injected so far, oldest first. */
  events(): readonly FaultEvent[];
  /** Every request or connection received so far, faulted or not, oldest first (e.g. to see a client retry). */
  arrivals(): readonly FaultArrival[];
  /** Stops listening and closes every connection, held or forwarded; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts a fault-injecting proxy on a free loopback port in front of `options.upstream`.
 *
 * HTTP upstreams get a `node:http` reverse proxy: HTTP faults need request framing (a 503 is
 * a whole answer on a request boundary, and keep-alive connections carry many requests, so a
 * per-connection fault would hit few of them), and `node:http` gives that framing, chunked
 * bodies and `Expect: 100-continue` for free, as the recording proxy already relies on. The
 * raw faults are injected there per request, on the request's own connection. Other upstreams
 * get a byte proxy (`node:net`) that injects the raw faults per connection.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const http = upstream.protocol === 'http:';
  if (!http && upstream.protocol !== 'tcp:') throw new Error(`fault proxy: upstream must be http://host:port or tcp://host:port, got ${options.upstream}`);
  if (!upstream.port) throw new Error(`fault proxy: upstream ${options.upstream} names no port`);
  const kinds = http ? HTTP_FAULT_KINDS : TCP_FAULT_KINDS;
  const stallMs = options.stallMs ?? 3000;
  const policy = new FaultPolicy({
    seed: options.seed ?? randomInt(2 ** 31),
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    ...(options.kinds === undefined ? {} : { kinds: options.kinds }),
    stallMs,
    allowed: kinds,
  });
  const ctx = new FaultContext(policy, {
    dialect: options.dialect ?? 'plain',
    stallMs,
    slowBytesPerSecond: options.slowBytesPerSecond ?? 32 * 1024,
    slowDelayMs: options.slowDelayMs ?? 1000,
    truncateBytes: options.truncateBytes ?? 1024,
  });
  const server = http
    ? await startHttpFaultServer(ctx, upstream)
    : await startTcpFaultServer(ctx, { host: upstream.hostname.replace(/^\[|\]$/g, ''), port: Number(upstream.port) });
  let closing: Promise<void> | undefined;
  return {
    url: `${http ? 'http' : 'tcp'}://127.0.0.1:${server.port}`,
    host: '127.0.0.1',
    port: server.port,
    seed: policy.seed,
    kinds,
    setRate: (rate, which) => policy.setRate(rate, which ?? kinds),
    setMode: (kind) => {
      const was = policy.currentMode;
      policy.setMode(kind);
      if (kind === 'stall' && was !== 'stall') ctx.freezeActive(Infinity);
      if (was === 'stall' && kind !== 'stall') ctx.endModeStalls();
    },
    schedule: async (windows) => {
      const start = Date.now();
      const end = policy.schedule(windows);
      for (const w of windows) if (w.kind === 'stall') ctx.scheduleFreeze(start + w.fromMs, start + w.toMs);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - Date.now())));
    },
    pause: () => ctx.pause(),
    resume: () => ctx.resume(),
    inFlight: () => ctx.active.size,
    counts: () => ctx.counts(kinds),
    events: () => ctx.events(),
    arrivals: () => ctx.arrivals(),
    close: () => {
      closing ??= (async () => {
        ctx.shutdown();
        await server.close();
      })();
      return closing;
    },
  };
}
