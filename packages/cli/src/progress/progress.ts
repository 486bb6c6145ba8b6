import type { Logger } from '@litestream-ts/core';

/** A running progress display. */
export interface Progress {
  /** Bytes done so far, and the total when it changed. */
  update(done: number, total?: number): void;
  /** Draws or logs the final state; later calls do nothing. Call it in `finally`. */
  stop(): void;
  /**
   * The logger given to `createProgress`, made safe to use while a bar is drawn: each line
   * clears the bar, is written, and the bar is redrawn below it. Pass it to the work the bar
   * follows (e.g. `restore({ logger: progress.logger })`), or lines land on the bar's line.
   */
  readonly logger: Logger;
}
