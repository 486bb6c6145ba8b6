import type { LogFields, Logger } from '@litestream-ts/core';

/** What a {@link BarLogger} does around each line. */
export interface BarLoggerHooks {
  /** Removes the bar from its line, if one is drawn. */
  beforeLine(): void;
  /** Draws the bar again, below the line just written. */
  afterLine(): void;
}

/**
 * A logger whose lines never share a line with the progress bar: the bar is cleared before
 * each line and redrawn right after it, in the same burst of writes, so it does not flicker.
 */
export class BarLogger implements Logger {
  private readonly inner: Logger;
  private readonly hooks: BarLoggerHooks;

  constructor(inner: Logger, hooks: BarLoggerHooks) {
    this.inner = inner;
    this.hooks = hooks;
  }

  trace(message: string, fields?: LogFields): void {
    this.around(() => this.inner.trace(message, fields));
  }

  debug(message: string, fields?: LogFields): void {
    this.around(() => this.inner.debug(message, fields));
  }

  info(message: string, fields?: LogFields): void {
    this.around(() => this.inner.info(message, fields));
  }

  warn(message: string, fields?: LogFields): void {
    this.around(() => this.inner.warn(message, fields));
  }

  error(message: string, fields?: LogFields): void {
    this.around(() => this.inner.error(message, fields));
  }

  child(fields: LogFields): Logger {
    return new BarLogger(this.inner.child(fields), this.hooks);
  }

  private around(write: () => void): void {
    this.hooks.beforeLine();
    try {
      write();
    } finally {
      this.hooks.afterLine();
    }
  }
}
