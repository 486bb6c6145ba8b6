/** A snapshot of a transfer's progress, for display. */
export interface ProgressReading {
  readonly done: number;
  readonly total: number;
  /** 0–100, one decimal; 100 when the total is 0. */
  readonly percent: number;
  /** Average bytes per second since the start. */
  readonly rate: number;
  /** Seconds left at that rate; undefined while nothing has moved yet. */
  readonly etaSeconds: number | undefined;
}

/**
 * Bytes done out of a total, and the rate since the start. The average over the whole run,
 * not a short window: restores download in bursts, and a windowed rate jumps around.
 */
export class ProgressState {
  private readonly startedAt: number;
  private readonly now: () => number;
  done = 0;
  total: number;

  constructor(total: number, now: () => number) {
    this.total = total;
    this.now = now;
    this.startedAt = now();
  }

  update(done: number, total?: number): void {
    this.done = Math.max(0, done);
    if (total !== undefined) this.total = Math.max(0, total);
  }

  read(): ProgressReading {
    const elapsed = (this.now() - this.startedAt) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    const percent = this.total > 0 ? Math.min(100, Math.round((this.done / this.total) * 1000) / 10) : 100;
    const etaSeconds = rate > 0 ? Math.max(0, this.total - this.done) / rate : undefined;
    return { done: this.done, total: this.total, percent, rate, etaSeconds };
  }
}
