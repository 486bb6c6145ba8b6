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

/** The committed frames found by a `WalScanner`: one sync's worth of transactions. */
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

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Follows the frames of one WAL generation from a known offset and checksum: a frame is
 * valid when its salts match the header and its checksum continues the chain; the scan ends
 * at the first invalid frame (old frames of an earlier generation, or a transaction still
 * being written). Frames are fed in whole-frame pieces of the file, in order, so the same
 * scanner serves a region read at once and one read chunk by chunk.
 */
export class WalScanner {
  readonly header: WalHeader;
  private readonly frameSize: number;
  private s0: number;
  private s1: number;
  private pos: number;
  private frames = 0;
  private stopped = false;
  private readonly pending = new Map<number, number>();
  private readonly committed = new Map<number, number>();
  private result: WalCommitRun | undefined;

  /** @param offset file offset of the first frame to read (just after the header or after a frame). */
  constructor(header: WalHeader, offset: number, seed: readonly [number, number]) {
    this.header = header;
    this.frameSize = WAL_FRAME_HEADER_SIZE + header.pageSize;
    this.pos = offset;
    [this.s0, this.s1] = seed;
  }

  /** File offset of the next frame expected. */
  get offset(): number {
    return this.pos;
  }

  /** False once an invalid frame ended the scan. */
  get open(): boolean {
    return !this.stopped;
  }

  /** Everything committed so far; undefined when no commit frame was found. */
  get run(): WalCommitRun | undefined {
    return this.result;
  }

  /**
   * Checks the frames in `bytes`, which holds the file from `this.offset` on (a whole number
   * of frames is used; a partial frame at the end is ignored). Returns false once the scan
   * has ended.
   */
  feed(bytes: Buffer): boolean {
    if (this.stopped) return false;
    const { header, frameSize } = this;
    const count = Math.floor(bytes.byteLength / frameSize);
    const aligned = HOST_LITTLE_ENDIAN && !header.bigEndian && bytes.byteOffset % 4 === 0;
    const words = aligned ? new Uint32Array(bytes.buffer, bytes.byteOffset, (count * frameSize) >>> 2) : undefined;
    const view = aligned ? undefined : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = !header.bigEndian;
    const pageWords = header.pageSize >>> 2;
    const frameWords = frameSize >>> 2;
    for (let i = 0; i < count; i++) {
      const at = i * frameSize;
      const pgno = bytes.readUInt32BE(at);
      const commit = bytes.readUInt32BE(at + 4);
      if (pgno === 0 || bytes.readUInt32BE(at + 8) !== header.salt1 || bytes.readUInt32BE(at + 12) !== header.salt2) return this.stop();
      let a = this.s0;
      let b = this.s1;
      if (words) {
        const w = i * frameWords;
        a = (a + words[w]! + b) >>> 0;
        b = (b + words[w + 1]! + a) >>> 0;
        const end = w + 6 + pageWords;
        for (let k = w + 6; k < end; k += 2) {
          a = (a + words[k]! + b) >>> 0;
          b = (b + words[k + 1]! + a) >>> 0;
        }
      } else {
        a = (a + view!.getUint32(at, little) + b) >>> 0;
        b = (b + view!.getUint32(at + 4, little) + a) >>> 0;
        const end = at + frameSize;
        for (let k = at + WAL_FRAME_HEADER_SIZE; k < end; k += 8) {
          a = (a + view!.getUint32(k, little) + b) >>> 0;
          b = (b + view!.getUint32(k + 4, little) + a) >>> 0;
        }
      }
      if (a !== bytes.readUInt32BE(at + 16) || b !== bytes.readUInt32BE(at + 20)) return this.stop();
      this.s0 = a;
      this.s1 = b;
      this.pending.set(pgno, this.pos + WAL_FRAME_HEADER_SIZE);
      this.pos += frameSize;
      this.frames += 1;
      if (commit !== 0) {
        for (const [p, o] of this.pending) this.committed.set(p, o);
        this.pending.clear();
        this.result = { pages: this.committed, commit, endOffset: this.pos, checksum: [a, b], frames: this.frames };
      }
    }
    return true;
  }

  private stop(): false {
    this.stopped = true;
    return false;
  }
}

/** Identity and change markers of the `-wal` file, as `stat` reports them. */
export interface WalStat {
  readonly ino: bigint;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
}
