import type { Logger } from '@litestream-ts/core';
import { formatRate } from './human-units.ts';
import type { Progress } from './progress.ts';
import { ProgressState } from './progress-state.ts';

/**
 * Progress where no one watches a terminal (logs, CI, systemd): an info line `progress` at
 * most every `intervalMs`, checked on each update so no timer keeps the process alive, and a
 * last line on stop.
 */
export class LogProgress implements Progress {
  readonly logger: Logger;
  private readonly label: string;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly state: ProgressState;
  private lastLoggedAt: number;
  private stopped = false;

  constructor(options: { label: string; total: number; logger: Logger; intervalMs: number; now: () => number }) {
    this.logger = options.logger;
    this.label = options.label;
    this.intervalMs = options.intervalMs;
    this.now = options.now;
    this.state = new ProgressState(options.total, options.now);
    this.lastLoggedAt = this.now();
  }

  update(done: number, total?: number): void {
    if (this.stopped) return;
    this.state.update(done, total);
    if (this.now() - this.lastLoggedAt >= this.intervalMs) this.log();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.log();
  }

  private log(): void {
    this.lastLoggedAt = this.now();
    const reading = this.state.read();
    this.logger.info('progress', { label: this.label, done: reading.done, total: reading.total, percent: reading.percent, rate: formatRate(reading.rate) });
  }
}
