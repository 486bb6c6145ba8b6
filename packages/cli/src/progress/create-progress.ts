import type { Logger } from '@litestream-ts/core';
import { BarProgress } from './bar-progress.ts';
import { LogProgress } from './log-progress.ts';
import type { Progress } from './progress.ts';

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is progressing (`restore`). */
  readonly label: string;
  /** Expected bytes. */
  readonly total: number;
  /** Where the bar is drawn (standard error). */
  readonly stream: NodeJS.WriteStream;
  /** Where progress lines go when there is no terminal. */
  readonly logger: Logger;
  /** Draw a bar (default: whether `stream` is a terminal). */
  readonly isTTY?: boolean;
  /** Least milliseconds between progress log lines (default 5000). */
  readonly intervalMs?: number;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

/**
 * A bar with sizes, rate and ETA on a terminal; otherwise `progress` log lines every few
 * seconds and at the end.
 */
export function createProgress(options: ProgressOptions): Progress {
  const now = options.now ?? (() => performance.now());
  const tty = options.isTTY ?? options.stream.isTTY === true;
  if (tty) return new BarProgress({ label: options.label, total: options.total, stream: options.stream, logger: options.logger, now });
  return new LogProgress({ label: options.label, total: options.total, logger: options.logger, intervalMs: options.intervalMs ?? 5000, now });
}
