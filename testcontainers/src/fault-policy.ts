/**
 * The faults a {@link FaultPolicy} can choose. The first four work on any TCP service; the rest
 * are HTTP answers and only exist for an HTTP upstream.
 *
 * - `reset`: the connection is reset (RST) before anything is forwarded;
 * - `stall`: accepted, then nothing is answered or forwarded until the stall ends, when the
 *   connection is closed (a black hole that eventually gives up);
 * - `slow`: forwarded, but the answer starts late and every byte is throttled;
 * - `truncate`: forwarded (the upstream acts on it), then the answer is cut short: part of the
 *   body, or nothing at all when it has none, before the connection is closed;
 * - `status-500`, `status-503`, `slowdown`: answered by the proxy with that error (S3's
 *   `InternalError`, `ServiceUnavailable`, `SlowDown`; Azure's `InternalError`, `ServerBusy`),
 *   the request never reaches the upstream.
 */
export type FaultKind = 'reset' | 'stall' | 'slow' | 'truncate' | 'status-500' | 'status-503' | 'slowdown';

export const TCP_FAULT_KINDS: readonly FaultKind[] = ['reset', 'stall', 'slow', 'truncate'];
export const HTTP_FAULT_KINDS: readonly FaultKind[] = [...TCP_FAULT_KINDS, 'status-500', 'status-503', 'slowdown'];

/** One scheduled fault window, in ms relative to when {@link FaultPolicy.schedule} was called. */
export interface FaultWindow {
  readonly kind: FaultKind;
  readonly fromMs: number;
  readonly toMs: number;
}

/** What the policy decided for one request (HTTP) or connection (TCP). */
export interface FaultDecision {
  readonly kind: FaultKind;
  /** Why: forced by `setMode`, inside a scheduled window, or drawn at the configured rate. */
  readonly source: 'mode' | 'schedule' | 'rate';
  /**
   * When a stall ends (ms since the epoch; `Infinity` while a mode holds it — it ends when
   * the mode changes). Only for `stall`.
   */
  readonly until?: number;
  /** A number in [0, 1) drawn for this decision, for parameters such as where to cut a body. */
  readonly fraction: number;
}

/** A seeded 32-bit PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Decides, for each request or connection in arrival order, whether to inject a fault and which:
 * a mode set at run time wins, then a scheduled window, then the rate. Faults drawn at the
 * rate are dealt from a shuffled deck of the configured kinds, so every kind appears once in
 * each round of `kinds.length` faults (a short run still sees them all). All randomness comes
 * from one seeded PRNG: the same seed and the same sequence of arrivals give the same decisions.
 */
export class FaultPolicy {
  readonly seed: number;
  private readonly random: () => number;
  private rate: number;
  private kinds: readonly FaultKind[];
  private deck: FaultKind[] = [];
  private mode: FaultKind | undefined;
  private windows: Array<{ kind: FaultKind; from: number; to: number }> = [];
  private readonly stallMs: number;
  private readonly now: () => number;
  private readonly allowed: readonly FaultKind[];

  constructor(options: { seed: number; rate?: number; kinds?: readonly FaultKind[]; stallMs: number; allowed: readonly FaultKind[]; now?: () => number }) {
    this.seed = options.seed;
    this.random = seededRandom(options.seed);
    this.allowed = options.allowed;
    this.rate = 0;
    this.kinds = [];
    this.setRate(options.rate ?? 0, options.kinds);
    this.stallMs = options.stallMs;
    this.now = options.now ?? Date.now;
  }

  /** Faults at `rate` (0..1) of arrivals, dealt from `kinds` (default: every kind this proxy can inject). */
  setRate(rate: number, kinds: readonly FaultKind[] = this.allowed): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`fault rate must be between 0 and 1, got ${rate}`);
    if (rate > 0 && kinds.length === 0) throw new RangeError('a fault rate needs at least one fault kind');
    for (const kind of kinds) this.check(kind);
    this.rate = rate;
    this.kinds = [...kinds];
    this.deck = [];
  }

  /** Every arrival gets `kind` until the mode is cleared with `undefined`. */
  setMode(kind: FaultKind | undefined): void {
    if (kind !== undefined) this.check(kind);
    this.mode = kind;
  }

  get currentMode(): FaultKind | undefined {
    return this.mode;
  }

  /** Adds fault windows, in ms from now; returns the absolute end of the last one. */
  schedule(windows: readonly FaultWindow[]): number {
    const base = this.now();
    let last = base;
    for (const w of windows) {
      this.check(w.kind);
      if (!(w.fromMs >= 0 && w.toMs > w.fromMs)) throw new RangeError(`fault window ${w.kind} needs 0 <= fromMs < toMs, got ${w.fromMs}..${w.toMs}`);
      this.windows.push({ kind: w.kind, from: base + w.fromMs, to: base + w.toMs });
      last = Math.max(last, base + w.toMs);
    }
    return last;
  }

  /** The scheduled window in force now, if any (expired windows are forgotten). */
  activeWindow(): { kind: FaultKind; to: number } | undefined {
    const now = this.now();
    this.windows = this.windows.filter((w) => w.to > now);
    return this.windows.find((w) => w.from <= now);
  }

  /** Decides for one arrival: a fault, or undefined to forward it untouched. */
  decide(): FaultDecision | undefined {
    // One draw per arrival whatever happens, so the sequence does not depend on modes and windows.
    const draw = this.random();
    const fraction = this.random();
    if (this.mode) return this.decision(this.mode, 'mode', fraction, Infinity);
    const window = this.activeWindow();
    if (window) return this.decision(window.kind, 'schedule', fraction, window.to);
    if (this.rate === 0 || draw >= this.rate) return undefined;
    if (this.deck.length === 0) this.deck = this.shuffled(this.kinds);
    return this.decision(this.deck.pop()!, 'rate', fraction, this.now() + this.stallMs);
  }

  private decision(kind: FaultKind, source: FaultDecision['source'], fraction: number, until: number): FaultDecision {
    return kind === 'stall' ? { kind, source, fraction, until } : { kind, source, fraction };
  }

  private shuffled(kinds: readonly FaultKind[]): FaultKind[] {
    const deck = [...kinds];
    for (let i = deck.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [deck[i], deck[j]] = [deck[j]!, deck[i]!];
    }
    return deck;
  }

  private check(kind: FaultKind): void {
    if (!this.allowed.includes(kind)) throw new RangeError(`fault ${kind} cannot be injected here (this proxy injects ${this.allowed.join(', ')})`);
  }
}
