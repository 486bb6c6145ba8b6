/**
 * Typed errors of the LTX codec and the replica contract. Each names the file (or
 * replica object) it concerns and the fact that failed, so a user can act on it.
 */

/**
 * Where every error below keeps the stable codes of its class chain (most derived first). A
 * registry-wide symbol, so an error made by another copy of this package (a backend built
 * against another version of core) is still recognised: see {@link isLitestreamError}.
 */
const ERROR_CODES: unique symbol = Symbol.for('litestream-ts.error') as never;

/**
 * Base class: every error this package raises on purpose. Each class has a stable
 * `errorCode` (`LitestreamError.errorCode`, also on each instance) that does not change
 * across versions. `instanceof` compares those codes, not prototypes, so it also holds for an
 * error thrown by another copy of `@litestream-ts/core` (two versions installed side by side).
 */
export class LitestreamError extends Error {
  /** This class's stable code (`LITESTREAM_…`). */
  static readonly errorCode: string = 'LITESTREAM_ERROR';
  /** The stable code of the class that made this error. */
  readonly errorCode: string;
  /** The file, path or object key the error concerns, when there is one. */
  readonly file: string | undefined;
  constructor(message: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(options?.file ? `${options.file}: ${message}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.errorCode = new.target.errorCode;
    this.file = options?.file;
    Object.defineProperty(this, ERROR_CODES, { value: codeChain(new.target) });
  }

  /**
   * `value instanceof SomeError`: true for this copy's instances and for any error whose code
   * chain holds `SomeError.errorCode`, whichever copy of core made it. A subclass without its
   * own `errorCode` (a backend's) is matched by prototype only.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return Object.hasOwn(this, 'errorCode') && isLitestreamError(value, (this as typeof LitestreamError).errorCode);
  }
}

/**
 * True when `value` is an error of this package from any copy of `@litestream-ts/core` (two
 * versions installed side by side): any of them, or with `errorCode` only those of that class
 * or a subclass of it, e.g. `isLitestreamError(err, PreconditionFailedError.errorCode)` or
 * with the literal code `'LITESTREAM_PRECONDITION_FAILED'`.
 */
export function isLitestreamError(value: unknown, errorCode?: string): value is LitestreamError {
  if (typeof value !== 'object' || value === null) return false;
  const codes = (value as { [ERROR_CODES]?: unknown })[ERROR_CODES];
  return Array.isArray(codes) && (errorCode === undefined || codes.includes(errorCode));
}

function codeChain(target: Function): readonly string[] {
  const codes: string[] = [];
  for (let c: unknown = target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
    if (Object.hasOwn(c, 'errorCode')) codes.push((c as typeof LitestreamError).errorCode);
  }
  return Object.freeze(codes);
}

/** A stored checksum does not match the one computed from the bytes. */
export class ChecksumMismatchError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_CHECKSUM_MISMATCH';
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
  static override readonly errorCode: string = 'LITESTREAM_CORRUPT';
  /** The section where the rule broke: `header`, `page`, `page-index`, `trailer`, `file`. */
  readonly section: string;
  constructor(section: string, message: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(`corrupt LTX ${section}: ${message}`, options);
    this.section = section;
  }
}

/** A file or object that was asked for does not exist. */
export class NotFoundError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_NOT_FOUND';
  constructor(what: string, options?: { file?: string | undefined; cause?: unknown }) {
    super(`not found: ${what}`, options);
  }
}

/** Misuse of an API (bad argument or wrong call order): a bug in the caller, not in the data. */
export class UsageError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_USAGE';
}

function formatChecksumHex(value: bigint, digits: number): string {
  return value.toString(16).padStart(digits, '0');
}
