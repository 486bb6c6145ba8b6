import { open, type FileHandle } from 'node:fs/promises';
import { LitestreamError } from '../ltx/errors.ts';
import { isValidPageSize } from '../ltx/constants.ts';

/** The SQLite file header facts the codec needs. */
export interface SqliteHeaderInfo {
  readonly pageSize: number;
  /** Pages in the database: the header's count when valid, else file size / page size. */
  readonly pageCount: number;
  /** True when the file is in WAL mode (read/write versions 2). */
  readonly walMode: boolean;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

/**
 * Reads the first 100 bytes of a SQLite database and its size. Throws naming the file.
 * Opens and closes the file: never use it on a database this process has open in SQLite
 * (closing any descriptor drops the process's POSIX locks); use `readSqliteHeaderFrom`.
 */
export async function readSqliteHeader(path: string): Promise<SqliteHeaderInfo> {
  const fh = await open(path, 'r');
  try {
    return await readSqliteHeaderFrom(fh, path);
  } finally {
    await fh.close();
  }
}

/** Same as `readSqliteHeader` through a handle the caller keeps open. */
export async function readSqliteHeaderFrom(fh: FileHandle, path?: string): Promise<SqliteHeaderInfo> {
  const { size } = await fh.stat();
  const b = Buffer.alloc(100);
  const { bytesRead } = await fh.read(b, 0, 100, 0);
  return parseSqliteHeader(b.subarray(0, bytesRead), size, path);
}

/** Parses a SQLite header given the file size. */
export function parseSqliteHeader(b: Buffer, fileSize: number, path?: string): SqliteHeaderInfo {
  if (b.byteLength < 100 || b.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new LitestreamError('not a SQLite database (bad header)', { file: path });
  }
  const raw = b.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (!isValidPageSize(pageSize)) throw new LitestreamError(`SQLite header has invalid page size ${raw}`, { file: path });
  const changeCounter = b.readUInt32BE(24);
  const headerPages = b.readUInt32BE(28);
  const validFor = b.readUInt32BE(92);
  const pageCount = headerPages > 0 && changeCounter === validFor ? headerPages : Math.floor(fileSize / pageSize);
  if (pageCount * pageSize > fileSize) {
    throw new LitestreamError(`SQLite header says ${pageCount} pages of ${pageSize} bytes but the file has only ${fileSize} bytes`, { file: path });
  }
  return { pageSize, pageCount, walMode: b[18] === 2 && b[19] === 2 };
}
