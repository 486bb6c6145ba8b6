import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';
import type { Logger } from '@litestream-ts/core';
import { BarLogger } from './bar-logger.ts';
import { barStream } from './bar-stream.ts';
import { formatBytes, formatDuration, formatRate } from './human-units.ts';
import type { Progress } from './progress.ts';
import { ProgressState } from './progress-state.ts';

/** Width of everything on the line but the bar, at its widest (`100% | 1023.9 MiB/1023.9 MiB | …`). */
const TEXT_WIDTH = 64;

/**
 * Progress on a terminal: `restore [=====-----] 42% | 12.3 MiB/1.0 GiB | 45.6 MiB/s | ETA 21s`,
 * redrawn in place by cli-progress at up to 10 frames a second.
 */
export class BarProgress implements Progress {
  readonly logger: Logger;
  private readonly bar: SingleBar;
  private readonly stream: NodeJS.WriteStream;
  private readonly state: ProgressState;
  private readonly label: string;
  private active = true;

  constructor(options: { label: string; total: number; stream: NodeJS.WriteStream; logger: Logger; now: () => number }) {
    this.stream = options.stream;
    this.label = options.label;
    this.state = new ProgressState(options.total, options.now);
    const columns = options.stream.columns || 80;
    this.bar = new (loadCliProgress().SingleBar)({
      stream: barStream(options.stream),
      format: '{label} [{bar}] {percentage}% | {sizes} | {rate} | ETA {remaining}',
      barsize: Math.max(10, Math.min(40, columns - TEXT_WIDTH - options.label.length)),
      // Long lines are cut to the terminal's width rather than wrapped onto a second line the
      // next frame could not erase; autowrap stays on for everyone else's output.
      linewrap: true,
      // Redraw every frame even when unchanged, so the bar comes back after a log line.
      forceRedraw: true,
      hideCursor: false,
      // Ctrl-C belongs to the command's own handler; a listener here would swallow it.
      gracefulExit: false,
    });
    this.bar.start(Math.max(0, options.total), 0, this.payload());
    this.logger = new BarLogger(options.logger, {
      beforeLine: () => {
        if (this.active) this.stream.write('\r\x1B[2K');
      },
      afterLine: () => {
        if (this.active) this.bar.render();
      },
    });
  }

  update(done: number, total?: number): void {
    if (!this.active) return;
    this.state.update(done, total);
    if (total !== undefined) this.bar.setTotal(Math.max(0, total));
    this.bar.update(Math.max(0, done), this.payload());
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.bar.update(this.state.done, this.payload());
    this.bar.stop();
  }

  private payload(): Record<string, string> {
    const reading = this.state.read();
    return {
      label: this.label,
      sizes: `${formatBytes(reading.done)}/${formatBytes(reading.total)}`,
      rate: formatRate(reading.rate),
      remaining: formatDuration(reading.etaSeconds),
    };
  }
}

/** cli-progress, required when the first bar is drawn (a restore on a terminal), not when the CLI starts. */
function loadCliProgress(): typeof import('cli-progress') {
  return createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
}
