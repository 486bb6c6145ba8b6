import type { FaultDecision, FaultKind, FaultPolicy } from './fault-policy.ts';
import type { FaultDialect } from './fault-responses.ts';
import type { Valve } from './valve.ts';

/** One request (HTTP) or connection (TCP) the proxy received, and the fault it got if any. */
export interface FaultArrival {
  /** When it arrived (ms since the epoch). */
  readonly at: number;
  /** `METHOD /path?query` for HTTP, `connection N` for TCP. */
  readonly what: string;
  /** The fault injected; undefined when it was forwarded untouched. */
  readonly kind?: FaultKind;
  readonly source?: FaultDecision['source'];
}

/** One injected fault, as `FaultProxy.events()` lists it. */
export type FaultEvent = Required<FaultArrival>;

/** A request or connection being forwarded now; a stall that begins meanwhile freezes it. */
export interface ActiveForward {
  readonly valves: readonly Valve[];
  /** Closes both sides (when a stall that froze it ends). */
  drop(): void;
}

/** Settings both proxy kinds read. */
export interface FaultSettings {
  readonly dialect: FaultDialect;
  readonly stallMs: number;
  readonly slowBytesPerSecond: number;
  readonly slowDelayMs: number;
  readonly truncateBytes: number;
}

const EVENT_LIMIT = 100_000;

/**
 * What the HTTP and TCP fault proxies share: the policy, counts and events, the requests held
 * by stalls (with when each is let go), what is being forwarded, and the pause gate.
 */
export class FaultContext {
  readonly policy: FaultPolicy;
  readonly settings: FaultSettings;
  readonly active = new Set<ActiveForward>();
  private readonly tally = new Map<FaultKind | 'forwarded', number>();
  private log: FaultArrival[] = [];
  private readonly stalled = new Set<{ drop: () => void; timer: NodeJS.Timeout | undefined; byMode: boolean }>();
  private gate: { promise: Promise<void>; open: () => void } | undefined;
  private windowTimers = new Set<NodeJS.Timeout>();

  constructor(policy: FaultPolicy, settings: FaultSettings) {
    this.policy = policy;
    this.settings = settings;
  }

  /** Counts and logs one arrival: the fault it got, or none (forwarded untouched). */
  record(decision: FaultDecision | undefined, what: string): void {
    const key = decision?.kind ?? 'forwarded';
    this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
    this.log.push(decision ? { at: Date.now(), what, kind: decision.kind, source: decision.source } : { at: Date.now(), what });
    if (this.log.length > EVENT_LIMIT) this.log = this.log.slice(-EVENT_LIMIT / 2);
  }

  counts(kinds: readonly FaultKind[]): Record<FaultKind | 'forwarded', number> {
    const out = { forwarded: this.tally.get('forwarded') ?? 0 } as Record<FaultKind | 'forwarded', number>;
    for (const kind of kinds) out[kind] = this.tally.get(kind) ?? 0;
    return out;
  }

  events(): readonly FaultEvent[] {
    return this.log.filter((a): a is FaultEvent => a.kind !== undefined);
  }

  arrivals(): readonly FaultArrival[] {
    return this.log.slice();
  }

  /**
   * Holds something unanswered until `until` (ms since the epoch), then calls `drop`;
   * `Infinity` means until the `stall` mode is cleared.
   */
  stall(until: number, drop: () => void): void {
    const entry = { drop, timer: undefined as NodeJS.Timeout | undefined, byMode: until === Infinity };
    const release = () => {
      if (!this.stalled.delete(entry)) return;
      if (entry.timer) clearTimeout(entry.timer);
      drop();
    };
    entry.drop = release;
    this.stalled.add(entry);
    if (until !== Infinity) entry.timer = setTimeout(release, Math.max(0, until - Date.now()));
  }

  /** A stall began (mode or window): what is being forwarded stops, and is closed when it ends. */
  freezeActive(until: number): void {
    for (const forward of this.active) {
      this.active.delete(forward);
      for (const valve of forward.valves) valve.hold();
      this.stall(until, () => forward.drop());
    }
  }

  /** The `stall` mode was cleared: everything it held is closed. */
  endModeStalls(): void {
    for (const entry of [...this.stalled]) if (entry.byMode) entry.drop();
  }

  /** Arms a timer that freezes in-flight traffic when a scheduled stall window opens. */
  scheduleFreeze(from: number, to: number): void {
    const timer = setTimeout(() => {
      this.windowTimers.delete(timer);
      this.freezeActive(to);
    }, Math.max(0, from - Date.now()));
    this.windowTimers.add(timer);
  }

  pause(): void {
    if (this.gate) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.gate = { promise, open };
  }

  resume(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  /** Resolves at once unless paused; then when resumed. */
  passGate(): Promise<void> | undefined {
    return this.gate?.promise;
  }

  /** Drops everything held and forwarded, and stops the timers. */
  shutdown(): void {
    for (const timer of this.windowTimers) clearTimeout(timer);
    this.windowTimers.clear();
    this.resume();
    for (const entry of [...this.stalled]) entry.drop();
    for (const forward of this.active) forward.drop();
    this.active.clear();
  }
}
