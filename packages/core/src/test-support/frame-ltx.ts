/**
 * Test helpers for LTX files whose pages are LZ4 *frames* (as Litestream v0.5.0 – v0.5.15
 * wrote them): frames made by independent encoders (the `lz4` command-line tool, lz4-napi's
 * lz4_flex), and a writer that lays such frames out as an LTX v3 file with a correct page
 * index and file checksum, so a test can vary the frames (options, damage) and nothing else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Crc64 } from '../checksum/index.ts';
import { CHECKSUM_FLAG, PAGE_HEADER_SIZE } from '../ltx/constants.ts';
import { encodeHeader, type LtxHeader } from '../ltx/header.ts';
import { PageIndexBuilder } from '../ltx/page-index.ts';

/** One LZ4 frame of `data` made by the `lz4` command-line tool with `args` (e.g. `-BX`, `--content-size`, `-B1024`, `-BD`). */
export function lz4CliFrame(data: Uint8Array, args: readonly string[] = []): Buffer {
  // From a file, not stdin: only then does `--content-size` know the size to write.
  const dir = mkdtempSync(join(tmpdir(), 'lz4-frame-'));
  try {
    const input = join(dir, 'page');
    writeFileSync(input, data);
    return execFileSync('lz4', ['-q', '-c', ...args, input], { maxBuffer: 1 << 26 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** True when the `lz4` command-line tool runs here. */
export function haveLz4Cli(): boolean {
  try {
    execFileSync('lz4', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** One LZ4 frame of `data` made by lz4-napi (lz4_flex): 64 KiB independent blocks. */
export function napiFrame(data: Uint8Array, options: { contentChecksum?: boolean; blockChecksums?: boolean } = { contentChecksum: true }): Buffer {
  const lz4 = createRequire(import.meta.url)('lz4-napi') as typeof import('lz4-napi');
  return lz4.compressFrameSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength), options);
}

/** A page to write: its number, its bytes, and the LZ4 frame that stores it (any bytes: tests damage them). */
export interface FramePage {
  readonly pgno: number;
  readonly data: Uint8Array;
  readonly frame: Uint8Array;
  /** Page-header flags (default 0x0000, a frame page); 0x0001 makes `frame` the size + block of a block page. */
  readonly flags?: number;
}

/**
 * An LTX v3 file of `pages` stored as given. The file checksum covers the header, each page
 * header (plus the size field of a block page) and the page's *decompressed* bytes, then the
 * terminator, page index and post-apply checksum; index sizes cover header and frame.
 */
export function writeFramePageLtx(header: LtxHeader, pages: readonly FramePage[], postApplyChecksum: bigint): Buffer {
  const parts: Buffer[] = [];
  const crc = new Crc64();
  const index = new PageIndexBuilder();
  let offset = 0;
  const put = (bytes: Uint8Array, hashed: Uint8Array | undefined = bytes) => {
    parts.push(Buffer.from(bytes));
    if (hashed) crc.update(hashed);
    offset += bytes.byteLength;
  };
  put(encodeHeader(header));
  for (const page of pages) {
    const flags = page.flags ?? 0;
    const head = Buffer.alloc(PAGE_HEADER_SIZE);
    head.writeUInt32BE(page.pgno, 0);
    head.writeUInt16BE(flags, 4);
    const start = offset;
    put(head);
    if (flags === 0x0001) crc.update(page.frame.subarray(0, 4));
    put(page.frame, page.data);
    index.add(page.pgno, start, offset - start);
  }
  put(Buffer.alloc(PAGE_HEADER_SIZE));
  put(index.finish());
  const trailer = Buffer.alloc(16);
  trailer.writeBigUInt64BE(postApplyChecksum, 0);
  crc.update(trailer.subarray(0, 8));
  trailer.writeBigUInt64BE(CHECKSUM_FLAG | crc.digest(), 8);
  parts.push(trailer);
  return Buffer.concat(parts);
}
