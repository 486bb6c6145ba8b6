/**
 * The input of the "LZ4 frame pages" figure: the bench's LTX snapshot rewritten with every
 * page stored as one LZ4 *frame* (page header flags 0x0000), as Litestream v0.5.0 – v0.5.15
 * wrote them. The frames come from an independent encoder, lz4_flex (through lz4-napi's
 * `compressFrameSync`), with Litestream's settings: independent 64 KiB blocks and a content
 * checksum. Made once per database (redone when the database is newer), untimed: the encode
 * figures rewrite the block-page file every run, with the same pages.
 */
import { closeSync, createReadStream, openSync, statSync, writeSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Crc64 } from '../../packages/core/src/checksum/index.ts';
import { CHECKSUM_FLAG } from '../../packages/core/src/ltx/constants.ts';
import { LtxDecoder } from '../../packages/core/src/ltx/decoder.ts';
import { encodeHeader } from '../../packages/core/src/ltx/header.ts';
import { PageIndexBuilder } from '../../packages/core/src/ltx/page-index.ts';
import { lz4Napi } from '../../packages/core/src/lz4/block.ts';

/** Writes `frameLtx` from `blockLtx` unless it is already there and newer than `database`; returns its size. */
export async function ensureFrameLtx(blockLtx: string, frameLtx: string, database: string): Promise<number> {
  try {
    const made = statSync(frameLtx);
    if (made.mtimeMs >= statSync(database).mtimeMs) return made.size;
  } catch {
    // not made yet
  }
  const started = performance.now();
  const temp = `${frameLtx}.tmp`;
  const fd = openSync(temp, 'w');
  const out = new ChunkWriter(fd);
  try {
    const lz4 = lz4Napi();
    const decoder = new LtxDecoder(createReadStream(blockLtx, { highWaterMark: 1 << 20 }), { file: blockLtx });
    const header = await decoder.readHeader();
    const crc = new Crc64();
    const index = new PageIndexBuilder();
    const head = encodeHeader(header);
    out.write(head);
    crc.update(head);
    const pageHeader = Buffer.alloc(6);
    for await (const batch of decoder.batches()) {
      const data = Buffer.from(batch.data!.buffer, batch.data!.byteOffset, batch.data!.byteLength);
      for (let i = 0; i < batch.count; i++) {
        const page = data.subarray(i * batch.pageSize, (i + 1) * batch.pageSize);
        const frame = lz4.compressFrameSync(page, { contentChecksum: true });
        const offset = out.offset;
        pageHeader.writeUInt32BE(batch.pgno(i), 0);
        pageHeader.writeUInt16BE(0x0000, 4);
        out.write(pageHeader);
        out.write(frame);
        // The file checksum covers the page header and the decompressed page.
        crc.update(pageHeader).update(page);
        index.add(batch.pgno(i), offset, pageHeader.byteLength + frame.byteLength);
      }
    }
    const result = await decoder.finish();
    const terminator = Buffer.alloc(6);
    const indexBytes = index.finish();
    const post = Buffer.alloc(8);
    post.writeBigUInt64BE(result.postApplyChecksum);
    for (const part of [terminator, indexBytes, post]) {
      out.write(part);
      crc.update(part);
    }
    const sum = Buffer.alloc(8);
    sum.writeBigUInt64BE(CHECKSUM_FLAG | crc.digest());
    out.write(sum);
    out.flush();
  } finally {
    closeSync(fd);
  }
  await rename(temp, frameLtx);
  const size = statSync(frameLtx).size;
  process.stderr.write(`made ${frameLtx} (${size} bytes, LZ4 frame pages) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return size;
}

/** Buffered writes to a file descriptor, 1 MiB at a time. */
class ChunkWriter {
  private readonly buffer = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private readonly fd: number;
  offset = 0;
  constructor(fd: number) {
    this.fd = fd;
  }

  write(bytes: Uint8Array): void {
    if (this.used + bytes.byteLength > this.buffer.byteLength) this.flush();
    if (bytes.byteLength > this.buffer.byteLength) {
      writeSync(this.fd, bytes);
    } else {
      this.buffer.set(bytes, this.used);
      this.used += bytes.byteLength;
    }
    this.offset += bytes.byteLength;
  }

  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.buffer, done, this.used - done);
    this.used = 0;
  }
}
