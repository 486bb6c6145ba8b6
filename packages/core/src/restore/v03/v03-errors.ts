import { LitestreamError, NotFoundError } from '../../ltx/errors.ts';

/**
 * A Litestream v0.3 backup cannot be restored as asked: a snapshot or WAL segment is missing,
 * damaged or not what its name says. `file` is the object's path below the replica path.
 */
export class V03BackupError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_V03_BACKUP';
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, { file: path, ...(options?.cause === undefined ? {} : { cause: options.cause }) });
  }
}

/** The replica holds v0.3 generations, but none can serve the target (no snapshot, or none that early). */
export class V03NoSnapshotError extends NotFoundError {
  static override readonly errorCode: string = 'LITESTREAM_V03_NO_SNAPSHOT';
  /** The earliest snapshot's time, when the target was a time before it. */
  readonly earliest: Date | undefined;
  constructor(what: string, earliest?: Date) {
    super(what);
    this.earliest = earliest;
  }
}
