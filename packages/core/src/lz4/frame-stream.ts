/**
 * Streaming decoder of LZ4 frames, as Litestream v0.3 wrote its snapshots and WAL segments
 * (github.com/pierrec/lz4 v4: independent 4 MiB blocks, a content checksum). A snapshot can be
 * as large as the database, so frames are decoded as their bytes arrive: memory is one block
 * in, one block out. The frame format's rules (header, block size words, block and header
 * checksums, end mark) are `frame-format.ts`'s, shared with the in-memory reader of LTX frame
 * pages; this module adds what a stream of frames needs: concatenated frames (decoding to the
 * concatenation of their contents), skippable frames, truncation, the content checksum over
 * the whole content, and decompression by lz4-napi (a linked block gets the last 64 KiB of
 * output as its dictionary).
 *
 * The v0.3 restore reads frames only through {@link decodeLz4FrameStream}, behind the
 * `Lz4FrameStreamDecoder` signature.
 */
import { ByteReader } from '../io/byte-reader.ts';
import { lz4Napi } from './block.ts';
import { checksumMismatch, hex, isCompressedBlock, isSkippableFrameMagic, LZ4_FRAME_MAGIC, LZ4_FRAME_MIN_HEADER, lz4FrameHeaderLength, Lz4FrameError, Lz4FrameHeader, type Lz4ChecksumFault } from './frame-format.ts';
import { loadXxh32, loadXxh32Stream, type Xxh32, type Xxh32Stream } from './xxh32.ts';

/**
 * The bytes of an LZ4 frame stream are malformed, truncated or fail a checksum. The message
 * says what failed and where (`offset`, in the compressed data).
 */
export class Lz4FrameStreamError extends Lz4FrameError {
  static override readonly errorCode: string = 'LITESTREAM_LZ4_FRAME_STREAM';
  /** Offset in the compressed stream where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number, checksum?: Lz4ChecksumFault) {
    super(offset, `LZ4 frame: ${message} (at byte ${offset} of the compressed data)`, checksum);
    this.offset = offset;
  }
}

/** Turns a compressed byte stream into its decompressed bytes (the interface the v0.3 restore reads through). */
export type Lz4FrameStreamDecoder = (source: AsyncIterable<Uint8Array>) => AsyncGenerator<Uint8Array>;

// "age-", the start of an age-encrypted file (v0.3 could encrypt its objects with age).
const AGE_MAGIC = 0x2d656761;
const DICTIONARY_BYTES = 64 * 1024;

interface Hashes {
  readonly xxh32: Xxh32;
  readonly content: () => Xxh32Stream;
}

/**
 * xxHash32, loaded on first use (a process that restores LTX block pages never loads it). The
 * content checksum of a whole snapshot needs the running hash, which only the WebAssembly
 * implementation has, so without WebAssembly this decoder refuses.
 */
async function loadHashes(): Promise<Hashes> {
  try {
    const content = await loadXxh32Stream();
    return { xxh32: await loadXxh32(), content };
  } catch (error) {
    throw new Lz4FrameStreamError(`xxHash32 is unavailable (${(error as Error).message}); reading LZ4 frames of Litestream v0.3 objects needs WebAssembly`, 0);
  }
}

/**
 * Decodes every frame of `source`, yielding decompressed chunks (one per block) as they are
 * ready. Throws {@link Lz4FrameStreamError} on a bad magic number, a reserved bit, a header, block
 * or content checksum mismatch, a block larger than the frame allows, a declared content size
 * that differs, a dictionary the frame needs, or a stream that ends inside a frame. An empty
 * stream is an error too: every compressed object holds at least one frame.
 */
export const decodeLz4FrameStream: Lz4FrameStreamDecoder = async function* (source) {
  const hashes = await loadHashes();
  const reader = new ByteReader(source);
  const header = new Lz4FrameHeader(hashes.xxh32, 'Litestream v0.3 objects');
  let frameStart = 0;
  try {
    let frames = 0;
    while (!(await reader.atEnd())) {
      frameStart = reader.offset;
      if (!(await reader.ensure(4))) throw truncated('magic number', frameStart);
      const magic = reader.peek().readUInt32LE(0);
      if (isSkippableFrameMagic(magic)) {
        reader.skip(4);
        const size = (await need(reader, 4, 'skippable frame size')).readUInt32LE(0);
        await need(reader, size, 'skippable frame');
        continue;
      }
      if (magic === AGE_MAGIC) throw new Lz4FrameStreamError('the data is encrypted with age (it starts with an age header); decrypt it first, this restore reads unencrypted v0.3 backups', frameStart);
      if (magic !== LZ4_FRAME_MAGIC) throw new Lz4FrameStreamError(`bad magic number ${hex(magic, 8)}, expected ${hex(LZ4_FRAME_MAGIC, 8)}`, frameStart);
      yield* decodeFrame(reader, header, hashes);
      frames++;
    }
    if (frames === 0) throw new Lz4FrameStreamError('no frame: the data is empty', 0);
  } catch (error) {
    // The format's checks report offsets from the frame's start.
    if (error instanceof Lz4FrameError && !(error instanceof Lz4FrameStreamError)) throw new Lz4FrameStreamError(error.message, frameStart + error.at, error.checksum);
    throw error;
  } finally {
    await reader.cancel();
  }
};

async function* decodeFrame(reader: ByteReader, header: Lz4FrameHeader, hashes: Hashes): AsyncGenerator<Uint8Array> {
  const frameStart = reader.offset;
  await readHeader(reader, header);
  const { independent, blockChecksums, blockMax } = header;
  const declaredSize = header.hasContentSize ? header.contentSize : undefined;
  const content = header.contentChecksum ? hashes.content() : undefined;
  let produced = 0n;
  // Linked blocks may refer back up to 64 KiB into the output before them.
  let window: Buffer = Buffer.alloc(0);
  for (let block = 1; ; block++) {
    const sizeAt = reader.offset;
    const word = (await need(reader, 4, 'block size')).readUInt32LE(0);
    const size = header.blockSize(word, sizeAt - frameStart);
    if (size === 0) break;
    // A view into the reader's chunk: hashed and copied before the next read.
    const data = await need(reader, size, 'block');
    const sum = blockChecksums ? hashes.xxh32(data) : 0;
    const compressed = isCompressedBlock(word);
    let bytes: Buffer;
    if (compressed) {
      // lz4-napi reads the most bytes the block may expand to from a 4-byte prefix.
      bytes = Buffer.allocUnsafe(4 + size);
      bytes.writeUInt32LE(blockMax, 0);
      data.copy(bytes, 4);
    } else {
      bytes = Buffer.from(data);
    }
    if (blockChecksums) {
      const at = reader.offset;
      const stored = (await need(reader, 4, 'block checksum')).readUInt32LE(0);
      if (stored !== sum) throw checksumMismatch('block', at - frameStart, stored, sum, block);
    }
    let out = bytes;
    if (compressed) {
      try {
        out = independent || window.byteLength === 0 ? lz4Napi().uncompressSync(bytes) : lz4Napi().uncompressSync(bytes, window);
      } catch (error) {
        throw new Lz4FrameStreamError(`block does not decompress: ${(error as Error).message}`, sizeAt);
      }
    }
    content?.update(out);
    produced += BigInt(out.byteLength);
    if (!independent) window = slideWindow(window, out);
    if (out.byteLength > 0) yield out;
  }
  if (content !== undefined) {
    const at = reader.offset;
    const stored = (await need(reader, 4, 'content checksum')).readUInt32LE(0);
    const sum = content.digest() >>> 0;
    if (stored !== sum) throw checksumMismatch('content', at - frameStart, stored, sum);
  }
  if (declaredSize !== undefined && declaredSize !== produced) {
    throw new Lz4FrameStreamError(`frame declares ${declaredSize} content bytes but holds ${produced}`, frameStart + 6);
  }
}

/** Reads the header of the frame starting at the reader's offset (its magic number checked) into `header`. */
async function readHeader(reader: ByteReader, header: Lz4FrameHeader): Promise<void> {
  for (let want = LZ4_FRAME_MIN_HEADER; ; want = header.need) {
    if (!(await reader.ensure(want))) {
      // What is left is buffered: the magic number and maybe part of the descriptor.
      const left = reader.peek();
      const what = left.byteLength > 4 && left.byteLength === lz4FrameHeaderLength(left[4]!) - 1 ? 'header checksum' : 'frame descriptor';
      throw truncated(what, reader.offset + left.byteLength);
    }
    const bytes = reader.peek();
    if (header.read(bytes, 0, bytes.byteLength)) {
      reader.skip(header.length);
      return;
    }
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
  if (bytes === null) throw truncated(what, at);
  return bytes;
}

function truncated(what: string, at: number): Lz4FrameStreamError {
  return new Lz4FrameStreamError(`the data ends inside the ${what} (truncated)`, at);
}
