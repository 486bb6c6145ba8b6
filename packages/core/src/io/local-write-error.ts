import { LitestreamError } from '../ltx/errors.ts';
import { errorCode } from './durable.ts';

/** What the system error codes of a failed local write mean, in words. */
const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large (file system or process file-size limit)',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
};

/**
 * A file or directory on this machine could not be written: a full disk, a quota, a
 * read-only or permission-protected path. Not a replica or network failure: retrying the
 * same write will not help until the cause is fixed, so callers do not retry it. The
 * message names the path (`file`), what was being done and why (`ENOSPC` in words and as a code).
 */
export class LocalWriteError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_LOCAL_WRITE';
  /** The system error code (`ENOSPC`, `EACCES`, `EROFS`, …), or `UNKNOWN`. */
  readonly code: string;
  /** The file or directory that could not be written. */
  declare readonly file: string;

  constructor(path: string, action: string, cause: unknown) {
    const code = errorCode(cause) ?? 'UNKNOWN';
    const reason = REASONS[code] ? `${REASONS[code]} (${code})` : cause instanceof Error ? cause.message : String(cause);
    super(`cannot ${action}: ${reason}`, { file: path, cause });
    this.code = code;
  }
}

/**
 * `error` as a `LocalWriteError` about `path` when it is a raw system error (one with a
 * `code`, not already one of ours); anything else is returned unchanged.
 */
export function asLocalWriteError(error: unknown, path: string, action: string): unknown {
  if (error instanceof LitestreamError || errorCode(error) === undefined) return error;
  return new LocalWriteError(path, action, error);
}
