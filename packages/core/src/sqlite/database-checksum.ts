import { createReadStream } from 'node:fs';
import { pageChecksum } from '../checksum/index.ts';
import { CHECKSUM_FLAG, lockPgno } from '../ltx/constants.ts';
import { readSqliteHeader } from './database-header.ts';

/**
 * The LTX database checksum of a SQLite file: the XOR of every page's checksum (the lock
 * page excluded), with bit 63 set. Reads the file once, sequentially.
 */
export async function databaseChecksum(path: string): Promise<{ checksum: bigint; pageSize: number; pageCount: number }> {
  const { pageSize, pageCount } = await readSqliteHeader(path);
  const lock = lockPgno(pageSize);
  let xor = 0n;
  let pgno = 1;
  let carry: Buffer | undefined;
  const end = pageCount * pageSize - 1;
  if (end >= 0) {
    for await (const chunk of createReadStream(path, { start: 0, end, highWaterMark: Math.max(pageSize, 1 << 20) }) as AsyncIterable<Buffer>) {
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let pos = 0;
      for (; buf.byteLength - pos >= pageSize; pos += pageSize, pgno++) {
        if (pgno !== lock) xor ^= pageChecksum(pgno, buf.subarray(pos, pos + pageSize));
      }
      carry = pos < buf.byteLength ? Buffer.from(buf.subarray(pos)) : undefined;
    }
  }
  return { checksum: CHECKSUM_FLAG | xor, pageSize, pageCount };
}
