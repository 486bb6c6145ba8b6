/**
 * Typed errors of the LTX codec and the replica contract. Each names the file (or
 * replica object) it concerns and the fact that failed, so a user can act on it.
 */

/** Base class: every error this package raises on purpose. */
export class LitestreamError extends Error {
  /** The file, path or object key the error concerns, when there is one. */
  readonly file: string | undefined;
  constructor(message: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(options?.file ? `${options.file}: ${message}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.file = options?.file;
  }
}

/** A stored checksum does not match the one computed from the bytes. */
export class ChecksumMismatchError extends LitestreamError {
  /** Which checksum failed: `file`, `post-apply`, `pre-apply`, … */
  readonly kind: string;
  readonly expected: bigint;
  readonly actual: bigint;
  /** `options.digits`: hex digits shown for each value (default 16, a CRC-64; 8 for an xxHash32). */
  constructor(kind: string, expected: bigint, actual: bigint, options?: { file?: string | undefined; detail?: string; digits?: number }) {
    const digits = options?.digits ?? 16;
    super(
      `${kind} checksum mismatch: stored ${formatChecksumHex(expected, digits)}, computed ${formatChecksumHex(actual, digits)}${options?.detail ? ` (${options.detail})` : ''}`,
      options,
    );
    this.kind = kind;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The bytes break a structural rule of the format (bad magic, page order, sizes, truncation…). */
export class CorruptError extends LitestreamError {
  /** The section where the rule broke: `header`, `page`, `page-index`, `trailer`, `file`. */
  readonly section: string;
  constructor(section: string, message: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(`corrupt LTX ${section}: ${message}`, options);
    this.section = section;
  }
}

/** A file or object that was asked for does not exist. */
export class NotFoundError extends LitestreamError {
  constructor(what: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(`not found: ${what}`, options);
  }
}

/** Misuse of an API (bad argument or wrong call order): a bug in the caller, not in the data. */
export class UsageError extends LitestreamError {}

function formatChecksumHex(value: bigint, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}
