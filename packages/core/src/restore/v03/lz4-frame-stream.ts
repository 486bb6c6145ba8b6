/**
 * Streaming decoder of the LZ4 *frame* format, as Litestream v0.3 wrote its snapshots and WAL
 * segments (github.com/pierrec/lz4 v4: independent 4 MiB blocks, a content checksum). Written
 * from the frame format description: a magic number, a frame descriptor (FLG, BD, optional
 * content size and dictionary ID, a header checksum byte), blocks each prefixed with a 4-byte
 * little-endian size whose high bit marks a block stored uncompressed, an optional xxHash32 per
 * block, a zero end mark and an optional xxHash32 of the whole content. Concatenated frames
 * decode to the concatenation of their contents; skippable frames are skipped.
 *
 * The v0.3 restore reads frames only through {@link decodeLz4FrameStream}, so another frame
 * decoder (for example the one the LTX frame-page reader uses) can take its place behind the
 * same signature. Blocks are decompressed by lz4-napi, already a dependency; a linked block
 * gets the last 64 KiB of output as its dictionary. Memory: one block in, one block out.
 */
import type { XXHashAPI } from 'xxhash-wasm';
import { ByteReader } from '../../io/byte-reader.ts';
import { LitestreamError } from '../../ltx/errors.ts';
import { lz4Napi } from '../../lz4/block.ts';

/** The bytes of an LZ4 frame stream are malformed, truncated or fail a checksum. */
export class Lz4FrameStreamError extends LitestreamError {
  /** Offset in the compressed stream where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`LZ4 frame: ${message} (at byte ${offset} of the compressed data)`);
    this.offset = offset;
  }
}

/** Turns a compressed byte stream into its decompressed bytes (the interface the v0.3 restore reads through). */
export type Lz4FrameStreamDecoder = (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array>;

const FRAME_MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_MAX_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };
// "age-", the start of an age-encrypted file (v0.3 could encrypt its objects with age).
const AGE_MAGIC = 0x2d656761;
const DICTIONARY_BYTES = 64 * 1024;
const UNCOMPRESSED_BIT = 0x80000000;

let hasher: Promise<XXHashAPI> | undefined;

/**
 * xxhash-wasm, loaded on first use (a process that restores LTX files never loads it). Its
 * streaming API hashes a whole snapshot's content; the pure-JS fallback the frame-page reader
 * has (js-xxhash) only hashes whole buffers, so without WebAssembly this decoder refuses.
 */
function loadHasher(): Promise<XXHashAPI> {
  hasher ??= import('xxhash-wasm')
    .then(async (module) => module.default())
    .catch((error: unknown) => {
      hasher = undefined;
      throw new Lz4FrameStreamError(`xxHash32 is unavailable (${(error as Error).message}); reading LZ4 frames of Litestream v0.3 objects needs WebAssembly`, 0);
    });
  return hasher;
}

/**
 * Decodes every frame of `source`, yielding decompressed chunks (one per block) as they are
 * ready. Throws {@link Lz4FrameStreamError} on a bad magic number, a reserved bit, a header, block
 * or content checksum mismatch, a block larger than the frame allows, a declared content size
 * that differs, a dictionary the frame needs, or a stream that ends inside a frame. An empty
 * stream is an error too: every compressed object holds at least one frame.
 */
export const decodeLz4FrameStream: Lz4FrameStreamDecoder = async function* (source) {
  const xxh = await loadHasher();
  const reader = new ByteReader(source);
  try {
    let frames = 0;
    while (!(await reader.atEnd())) {
      const start = reader.offset;
      const magic = (await need(reader, 4, 'magic number')).readUInt32LE(0);
      if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
        const size = (await need(reader, 4, 'skippable frame size')).readUInt32LE(0);
        await need(reader, size, 'skippable frame');
        continue;
      }
      if (magic === AGE_MAGIC) throw new Lz4FrameStreamError('the data is encrypted with age (it starts with an age header); decrypt it first, this restore reads unencrypted v0.3 backups', start);
      if (magic !== FRAME_MAGIC) throw new Lz4FrameStreamError(`bad magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x184d2204`, start);
      yield* decodeFrame(reader, xxh);
      frames++;
    }
    if (frames === 0) throw new Lz4FrameStreamError('no frame: the data is empty', 0);
  } finally {
    await reader.cancel();
  }
};

async function* decodeFrame(reader: ByteReader, xxh: XXHashAPI): AsyncGenerator<Uint8Array> {
  const descriptorAt = reader.offset;
  const head = Buffer.from(await need(reader, 2, 'frame descriptor'));
  const flg = head[0]!;
  const bd = head[1]!;
  if (flg >> 6 !== 1) throw new Lz4FrameStreamError(`unsupported frame version ${flg >> 6} (FLG 0x${hex2(flg)})`, descriptorAt);
  if ((flg & 0x02) !== 0) throw new Lz4FrameStreamError(`reserved FLG bit set (FLG 0x${hex2(flg)})`, descriptorAt);
  if ((bd & 0x8f) !== 0) throw new Lz4FrameStreamError(`reserved BD bits set (BD 0x${hex2(bd)})`, descriptorAt + 1);
  const independent = (flg & 0x20) !== 0;
  const blockChecksums = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictionary = (flg & 0x01) !== 0;
  const maxBlock = BLOCK_MAX_SIZES[(bd >> 4) & 0x07];
  if (maxBlock === undefined) throw new Lz4FrameStreamError(`invalid block maximum size code ${(bd >> 4) & 0x07} (BD 0x${hex2(bd)})`, descriptorAt + 1);
  const optional = Buffer.from(await need(reader, (hasContentSize ? 8 : 0) + (hasDictionary ? 4 : 0), 'frame descriptor'));
  const descriptor = Buffer.concat([head, optional]);
  const checkAt = reader.offset;
  const storedHeaderCheck = (await need(reader, 1, 'header checksum'))[0]!;
  const headerCheck = (xxh.h32Raw(descriptor, 0) >>> 8) & 0xff;
  if (storedHeaderCheck !== headerCheck) throw new Lz4FrameStreamError(`header checksum mismatch: stored 0x${hex2(storedHeaderCheck)}, computed 0x${hex2(headerCheck)}`, checkAt);
  if (hasDictionary) throw new Lz4FrameStreamError(`the frame needs dictionary ID ${optional.readUInt32LE(hasContentSize ? 8 : 0)}, which this reader does not have`, descriptorAt);
  const declaredSize = hasContentSize ? optional.readBigUInt64LE(0) : undefined;

  const content = contentChecksum ? xxh.create32(0) : undefined;
  let produced = 0n;
  // Linked blocks may refer back up to 64 KiB into the output before them.
  let window: Buffer = Buffer.alloc(0);
  for (;;) {
    const sizeAt = reader.offset;
    const word = (await need(reader, 4, 'block size')).readUInt32LE(0);
    if (word === 0) break;
    const stored = (word & UNCOMPRESSED_BIT) !== 0;
    const size = word & ~UNCOMPRESSED_BIT;
    if (size > maxBlock) throw new Lz4FrameStreamError(`block of ${size} bytes exceeds the frame's ${maxBlock}-byte maximum`, sizeAt);
    // A view into the reader's chunk: read before the next pull, or copied.
    const block = await need(reader, size, 'block');
    if (blockChecksums) {
      const at = reader.offset;
      const storedSum = (await need(reader, 4, 'block checksum')).readUInt32LE(0);
      const sum = xxh.h32Raw(block, 0) >>> 0;
      if (storedSum !== sum) throw new Lz4FrameStreamError(`block checksum mismatch: stored 0x${hex8(storedSum)}, computed 0x${hex8(sum)}`, at);
    }
    let out: Buffer;
    if (stored) out = Buffer.from(block);
    else {
      const prefixed = Buffer.allocUnsafe(4 + size);
      prefixed.writeUInt32LE(maxBlock, 0);
      block.copy(prefixed, 4);
      try {
        out = independent || window.byteLength === 0 ? lz4Napi().uncompressSync(prefixed) : lz4Napi().uncompressSync(prefixed, window);
      } catch (error) {
        throw new Lz4FrameStreamError(`block does not decompress: ${(error as Error).message}`, sizeAt);
      }
    }
    content?.update(out);
    produced += BigInt(out.byteLength);
    if (!independent) window = slideWindow(window, out);
    if (out.byteLength > 0) yield out;
  }
  if (contentChecksum) {
    const at = reader.offset;
    const storedSum = (await need(reader, 4, 'content checksum')).readUInt32LE(0);
    const sum = content!.digest() >>> 0;
    if (storedSum !== sum) throw new Lz4FrameStreamError(`content checksum mismatch: stored 0x${hex8(storedSum)}, computed 0x${hex8(sum)}`, at);
  }
  if (declaredSize !== undefined && declaredSize !== produced) {
    throw new Lz4FrameStreamError(`frame declares ${declaredSize} content bytes but holds ${produced}`, descriptorAt);
  }
}

/** The last 64 KiB of `window` followed by `out`. */
function slideWindow(window: Buffer, out: Buffer): Buffer {
  if (out.byteLength >= DICTIONARY_BYTES) return Buffer.from(out.subarray(out.byteLength - DICTIONARY_BYTES));
  const keep = Math.min(window.byteLength, DICTIONARY_BYTES - out.byteLength);
  return Buffer.concat([window.subarray(window.byteLength - keep), out]);
}

async function need(reader: ByteReader, n: number, what: string): Promise<Buffer> {
  const at = reader.offset;
  const bytes = await reader.read(n);
  if (bytes === null) throw new Lz4FrameStreamError(`the data ends inside the ${what} (truncated)`, at);
  return bytes;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
