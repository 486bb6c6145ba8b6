import type { LogFields, Logger } from './logger.ts';

/**
 * A run of failures of one task (syncing, maintenance, taking a lease), logged the way an
 * operator can follow: the first error, then again only when the error changes (the store
 * came back but answers something else), never once per retry of the same error; and one
 * line when the task succeeds again.
 */
export class ErrorStreak {
  private readonly logger: Logger;
  private readonly message: string;
  private readonly resumed: string;
  private count = 0;
  private key: string | undefined;
  private last: string | undefined;

  /**
   * @param message the error line (`sync error`).
   * @param resumed the line when a success ends the streak (`sync resumed`).
   */
  constructor(logger: Logger, message: string, resumed: string) {
    this.logger = logger;
    this.message = message;
    this.resumed = resumed;
  }

  /** Failures since the last success. */
  get failures(): number {
    return this.count;
  }

  /** The last error's message while failures go on. */
  get lastError(): string | undefined {
    return this.last;
  }

  /** Records a failure; logs it if it starts the streak or differs from the one before. */
  fail(error: unknown, fields: LogFields = {}): void {
    const message = error instanceof Error ? error.message : String(error);
    const key = errorKey(error);
    if (key !== this.key) this.logger.error(this.message, { error: message, ...fields, ...(this.count > 0 ? { after: this.count } : {}) });
    this.key = key;
    this.last = message;
    this.count += 1;
  }

  /** Records a success; logs the end of a streak. */
  succeed(): void {
    if (this.count > 0) this.logger.info(this.resumed, { after: this.count });
    this.count = 0;
    this.key = undefined;
    this.last = undefined;
  }
}

/**
 * What makes two errors "the same" for logging: the innermost cause's code (its class and
 * message, numbers masked, when it has no code), so the next file's name, another port or
 * another call timing out on the same stall is no change, while ECONNREFUSED → NoSuchBucket is.
 */
export function errorKey(error: unknown): string {
  let root = error;
  for (let depth = 0; depth < 10 && root instanceof Error && root.cause !== undefined; depth++) root = root.cause;
  if (!(root instanceof Error)) return String(root).replace(/\d+/g, '#');
  const code = (root as { code?: unknown }).code;
  // The code alone: wrappers of one failure (the SDK's error, ours) differ in class, not in code.
  if (typeof code === 'string' || typeof code === 'number') return `code:${code}`;
  return `${root.name}::${root.message.replace(/[0-9a-f]{8,}|\d+/gi, '#')}`;
}
