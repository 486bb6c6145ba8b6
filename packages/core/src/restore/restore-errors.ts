/**
 * Errors of planning and running a restore. Each carries the facts a user needs to act:
 * which file, which TXIDs, what exists instead, and what to do about it.
 */
import { LitestreamError, NotFoundError } from '../ltx/errors.ts';
import { formatTXID, type TXID } from '../ltx/txid.ts';

/**
 * The replica holds no LTX file at any level: nothing was ever replicated to it (or it was
 * wiped). `restoreIfNotExists` treats this as a fresh deployment rather than a failure.
 */
export class NoBackupsError extends NotFoundError {
  static override readonly errorCode: string = 'LITESTREAM_NO_BACKUPS';
  /** The levels that were listed, every one empty. */
  readonly levels: readonly number[];
  constructor(replica: string, levels: readonly number[], options: { v03Checked?: boolean } = {}) {
    super(
      `backups: the ${replica} replica holds no LTX files (levels ${describeLevels(levels)} listed, all empty)${options.v03Checked ? ' and no Litestream v0.3 generations' : ''}; check the replica path or URL, or replicate to it first`,
    );
    this.levels = levels;
  }
}

/**
 * Some TXIDs are in no LTX file, so no chain of files reaches the target. The replica
 * lost files (deleted by hand, a failed upload, retention racing a restore).
 */
export class TxidGapError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_TXID_GAP';
  /** The last TXID the files before the gap reach (0 when there is no snapshot). */
  readonly reachedTXID: TXID;
  /** First TXID no file covers. */
  readonly missingMinTXID: TXID;
  /** Last TXID of the hole: the next file's min TXID minus one. */
  readonly missingMaxTXID: TXID;
  /** `<level>/<min>-<max>.ltx` of the first file after the gap. */
  readonly nextFile: string;
  constructor(facts: { reachedTXID: TXID; reachedVia: string; nextMinTXID: TXID; nextFile: string }) {
    const missingMin = facts.reachedTXID + 1;
    const missingMax = facts.nextMinTXID - 1;
    const missing = missingMin === missingMax ? `TXID ${formatTXID(missingMin)}` : `TXIDs ${formatTXID(missingMin)}..${formatTXID(missingMax)}`;
    const hint =
      facts.reachedTXID === 0
        ? 'the replica has no snapshot to start from; replicate again so a new snapshot is written'
        : `restore TXID ${formatTXID(facts.reachedTXID)} or earlier, or let the replicator write a new snapshot`;
    super(
      `no LTX file covers ${missing} (reached ${formatTXID(facts.reachedTXID)} from ${facts.reachedVia}); the next file, ${facts.nextFile}, starts at ${formatTXID(facts.nextMinTXID)}: ${hint}`,
    );
    this.reachedTXID = facts.reachedTXID;
    this.missingMinTXID = missingMin;
    this.missingMaxTXID = missingMax;
    this.nextFile = facts.nextFile;
  }
}

/** The requested TXID or time is outside what the replica can restore. */
export class RestoreTargetError extends NotFoundError {
  static override readonly errorCode: string = 'LITESTREAM_RESTORE_TARGET';
  /** Earliest restorable time, when the target was a time before it. */
  readonly earliest: Date | undefined;
  /** Latest TXID the replica holds, when the target was a TXID past it. */
  readonly latestTXID: TXID | undefined;
  constructor(what: string, detail: string, facts: { earliest?: Date; latestTXID?: TXID } = {}) {
    super(`${what}: ${detail}`);
    this.earliest = facts.earliest;
    this.latestTXID = facts.latestTXID;
  }
}

/** The restore would replace a file that exists; the caller must remove it or allow overwriting. */
export class OutputExistsError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_OUTPUT_EXISTS';
  constructor(path: string, what: string) {
    super(`${what} already exists; remove it or restore with overwrite (-force)`, { file: path });
  }
}

/** SQLite's `quick_check` or `integrity_check` of the restored database did not say `ok`. */
export class IntegrityCheckError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_INTEGRITY_CHECK';
  readonly mode: 'quick' | 'full';
  /** Every row the pragma returned. */
  readonly rows: readonly string[];
  constructor(path: string, mode: 'quick' | 'full', rows: readonly string[]) {
    const shown = rows.slice(0, 10).join('; ');
    const more = rows.length > 10 ? `; … ${rows.length - 10} more` : '';
    super(`restored database failed PRAGMA ${mode === 'quick' ? 'quick_check' : 'integrity_check'}: ${shown || '(no rows)'}${more}`, { file: path });
    this.mode = mode;
    this.rows = rows;
  }
}

/** An LTX file could not be fetched from the replica, even after retrying. */
export class DownloadError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_DOWNLOAD';
  readonly attempts: number;
  constructor(file: string, attempts: number, cause: unknown, hint?: string) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`download failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}${hint ? `; ${hint}` : ''}`, { file, cause });
    this.attempts = attempts;
  }
}

function describeLevels(levels: readonly number[]): string {
  const contiguous = levels.every((level, i) => i === 0 || level === levels[i - 1]! + 1);
  return contiguous && levels.length > 2 ? `${levels[0]}-${levels[levels.length - 1]}` : levels.join(', ');
}
