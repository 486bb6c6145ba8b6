import type { FileHandle } from 'node:fs/promises';
import { isValidPageSize } from '../ltx/constants.ts';

/** Size of the WAL file header and of each frame header. */
export const WAL_HEADER_SIZE = 32;
export const WAL_FRAME_HEADER_SIZE = 24;

const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;

/** The 32-byte header of a SQLite `-wal` file. */
export interface WalHeader {
  /** Checksums are computed on big-endian words (magic 0x377f0683) or little-endian ones. */
  readonly bigEndian: boolean;
  readonly pageSize: number;
  readonly checkpointSeq: number;
  /** Salts change every time the WAL restarts; frames carry them to prove they belong. */
  readonly salt1: number;
  readonly salt2: number;
  /** Running checksum after the header: the seed of the first frame's checksum. */
  readonly checksum: readonly [number, number];
}

/** Parses a WAL header; undefined when the bytes are not a valid one (empty or torn WAL). */
export function parseWalHeader(b: Uint8Array): WalHeader | undefined {
  if (b.byteLength < WAL_HEADER_SIZE) return undefined;
  const view = new DataView(b.buffer, b.byteOffset, WAL_HEADER_SIZE);
  const magic = view.getUint32(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return undefined;
  const bigEndian = magic === MAGIC_BE;
  const rawPageSize = view.getUint32(8);
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize;
  if (!isValidPageSize(pageSize)) return undefined;
  const [s0, s1] = walChecksum(bigEndian, b.subarray(0, 24), 0, 0);
  if (s0 !== view.getUint32(24) || s1 !== view.getUint32(28)) return undefined;
  return { bigEndian, pageSize, checkpointSeq: view.getUint32(12), salt1: view.getUint32(16), salt2: view.getUint32(20), checksum: [s0, s1] };
}

/**
 * SQLite's WAL checksum: a Fibonacci-weighted sum over 32-bit words, continued from (s0, s1).
 * `data.byteLength` must be a multiple of 8.
 */
export function walChecksum(bigEndian: boolean, data: Uint8Array, s0: number, s1: number): [number, number] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const little = !bigEndian;
  let a = s0 >>> 0;
  let b = s1 >>> 0;
  for (let i = 0; i < data.byteLength; i += 8) {
    a = (a + view.getUint32(i, little) + b) >>> 0;
    b = (b + view.getUint32(i + 4, little) + a) >>> 0;
  }
  return [a, b];
}

/** One committed transaction's worth of frames found by `readCommittedFrames`. */
export interface WalCommitRun {
  /** Latest frame offset (of its page data) for every page written, keyed by page number. */
  readonly pages: Map<number, number>;
  /** Database size in pages after the last commit. */
  readonly commit: number;
  /** Offset just past the last commit frame: where the next read starts. */
  readonly endOffset: number;
  /** Running checksum at `endOffset`. */
  readonly checksum: readonly [number, number];
  /** Number of frames consumed. */
  readonly frames: number;
}

/**
 * Reads frames from `offset` (just after the header or after a frame) to the last valid
 * commit frame. A frame is valid when its salts match the header and its checksum continues
 * the chain; reading stops at the first invalid frame (old frames of an earlier WAL
 * generation, or a transaction still being written), or at `endOffset` when given.
 * Returns undefined when no commit frame follows `offset`.
 */
export async function readCommittedFrames(
  wal: FileHandle,
  header: WalHeader,
  offset: number,
  seed: readonly [number, number],
  options: { chunkFrames?: number; endOffset?: number } = {},
): Promise<WalCommitRun | undefined> {
  const frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
  const chunkFrames = options.chunkFrames ?? Math.max(1, Math.floor((1 << 20) / frameSize));
  const buf = Buffer.allocUnsafe(frameSize * chunkFrames);
  const pending = new Map<number, number>();
  const committed = new Map<number, number>();
  let [s0, s1] = seed;
  let pos = offset;
  let result: WalCommitRun | undefined;
  let frames = 0;
  for (;;) {
    const want = options.endOffset === undefined ? buf.byteLength : Math.min(buf.byteLength, options.endOffset - pos);
    if (want < frameSize) break;
    const { bytesRead } = await wal.read(buf, 0, want, pos);
    const whole = Math.floor(bytesRead / frameSize);
    if (whole === 0) break;
    for (let i = 0; i < whole; i++) {
      const frame = buf.subarray(i * frameSize, (i + 1) * frameSize);
      const pgno = frame.readUInt32BE(0);
      const commit = frame.readUInt32BE(4);
      if (pgno === 0 || frame.readUInt32BE(8) !== header.salt1 || frame.readUInt32BE(12) !== header.salt2) return result;
      [s0, s1] = walChecksum(header.bigEndian, frame.subarray(0, 8), s0, s1);
      [s0, s1] = walChecksum(header.bigEndian, frame.subarray(WAL_FRAME_HEADER_SIZE), s0, s1);
      if (s0 !== frame.readUInt32BE(16) || s1 !== frame.readUInt32BE(20)) return result;
      pending.set(pgno, pos + WAL_FRAME_HEADER_SIZE);
      pos += frameSize;
      frames += 1;
      if (commit !== 0) {
        for (const [p, o] of pending) committed.set(p, o);
        pending.clear();
        result = { pages: committed, commit, endOffset: pos, checksum: [s0, s1], frames };
      }
    }
    if (whole * frameSize < buf.byteLength) break;
  }
  return result;
}

/**
 * The running checksum stored in the frame that ends at `offset` (the seed for reading on
 * from there), or the header's checksum when `offset` is the first frame. Undefined if that
 * frame no longer belongs to this WAL generation.
 */
export async function checksumAt(wal: FileHandle, header: WalHeader, offset: number): Promise<readonly [number, number] | undefined> {
  if (offset === WAL_HEADER_SIZE) return header.checksum;
  const frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
  if (offset < WAL_HEADER_SIZE + frameSize || (offset - WAL_HEADER_SIZE) % frameSize !== 0) return undefined;
  const b = Buffer.alloc(WAL_FRAME_HEADER_SIZE);
  const { bytesRead } = await wal.read(b, 0, WAL_FRAME_HEADER_SIZE, offset - frameSize);
  if (bytesRead < WAL_FRAME_HEADER_SIZE) return undefined;
  if (b.readUInt32BE(8) !== header.salt1 || b.readUInt32BE(12) !== header.salt2) return undefined;
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

/** Reads and parses the header of the WAL file; undefined when absent or not valid. */
export async function readWalHeader(wal: FileHandle): Promise<WalHeader | undefined> {
  const b = Buffer.alloc(WAL_HEADER_SIZE);
  const { bytesRead } = await wal.read(b, 0, WAL_HEADER_SIZE, 0);
  return parseWalHeader(b.subarray(0, bytesRead));
}
