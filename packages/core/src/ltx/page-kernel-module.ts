/**
 * Source of the LTX page kernel: one WebAssembly module holding the CRC-64 functions of
 * `checksum/crc64-wasm-module.ts`, the LZ4 block decoder and compressor of `lz4/`, and the
 * loops that run them over a whole batch of page frames, so a batch costs one call from JS
 * and no allocation.
 *
 * Memory layout (bytes):
 *
 *   [0, 32 KiB)            slicing-by-16 CRC tables
 *   [32 KiB, 48 KiB)       shift table "feed one page of zero bytes" for the current page size
 *   [48 KiB, 56 KiB)       the LZ4 compressor's hash table
 *   [56 KiB, 64 KiB)       unused
 *   [64 KiB, …)            work area, laid out by the caller (`page-kernel.ts`)
 */
import {
  crc64WasmLayout,
  pageFromRawFunction,
  shiftFunction,
  updateFunction,
  type FunctionParts,
  type WasmMemory,
} from '../checksum/crc64-wasm-module.ts';
import { assembleModule, code, I32, I64, op, type Code, type MemoryOptions } from '../checksum/wasm-assembler.ts';
import { lz4DecodeFunction } from '../lz4/lz4-wasm-decoder.ts';
import { lz4CompressFunction } from '../lz4/lz4-wasm-encoder.ts';

export const KERNEL_SLICES = 16;
/** Where the page-size shift table lives. */
export const PAGE_SHIFT_TABLE = 32 * 1024;
/** Where the LZ4 compressor keeps its hash table. */
export const LZ4_TABLE = 48 * 1024;
/** Start of the caller's work area. */
export const WORK_OFFSET = 64 * 1024;

/** Function indices, in assembly order (bodies `call` each other by index). */
const UPDATE = 0;
const SHIFT = 1;
const PAGE_FROM_RAW = 2;
const LZ4_DECODE = 3;
const DECODE_FRAMES = 4;
const LZ4_COMPRESS = 5;
const ENCODE_FRAMES = 6;

/** Bytes of a page frame header: pgno (4), flags (2), compressed size (4). */
const FRAME_HEADER = 10;
/** Bytes of the page header alone: pgno (4), flags (2). */
const PAGE_HEADER = 6;

/** Byte offsets inside the 24-byte result record the batch functions fill. */
export const RESULT_SEGMENT = 0;
export const RESULT_XOR = 8;
export const RESULT_DETAIL = 16;
export const RESULT_BYTES = 24;

const get = op.localGet;
const set = op.localSet;

/** The bytes of the i32 on the stack, swapped; `scratch` is an i32 local it may use. */
function byteSwap(scratch: number): number[] {
  return code(
    op.localTee(scratch), op.i32Const(8), op.i32Rotl, op.i32Const(0x00ff00ff), op.i32And,
    get(scratch), op.i32Const(8), op.i32Rotr, op.i32Const(0xff00ff00 | 0), op.i32And,
    op.i32Or,
  );
}

/** Big-endian u32 at the address on the stack: a little-endian load with its bytes swapped. */
function loadU32BE(address: Code, offset: number, scratch: number): number[] {
  return code(
    address, op.i32Load(offset), op.localTee(scratch), op.i32Const(8), op.i32Rotl, op.i32Const(0x00ff00ff), op.i32And,
    get(scratch), op.i32Const(8), op.i32Rotr, op.i32Const(0xff00ff00 | 0), op.i32And,
    op.i32Or,
  );
}

/**
 * `decodeFrames(p, n, out, pageSize, sums, result, segment) -> i32`: decodes `n` page frames
 * laid end to end from `p` (each: BE pgno, flags, BE compressed size, LZ4 block; already
 * validated by the caller) into pages laid end to end from `out`, and for each page stores
 * its LTX page checksum at `sums + 8·i`. It also folds the frames into `segment`, the raw
 * CRC register of the file checksum (frame header, then the *decompressed* page), and XORs
 * the page checksums. The header bytes folded are the 10 of a block page (flags 0x0001),
 * or, for flags 0x0000 (an LZ4 *frame* page the caller rewrote into this layout, see
 * `frame-pages.ts`), the 6 of the page header alone, as the format defines the checksum. Returns `n`; or, at the first page that does not decode to exactly
 * `pageSize` bytes, its index, with the decoder's result in `result + RESULT_DETAIL`.
 *
 *   for i in 0..n:
 *     got = lz4Decode(p + 10, size(p), out, pageSize); if got != pageSize: fail i
 *     raw = update(0, out, pageSize); sum = pageFromRaw(pgno(p), raw)
 *     sums[i] = sum; xor ^= sum
 *     segment = shift(update(segment, p, 6 + 4·flags(p)), pageTable) ^ raw
 *     p += 10 + size; out += pageSize
 *   result[SEGMENT] = segment; result[XOR] = xor
 */
function decodeFramesFunction(): FunctionParts {
  const P = 0;
  const N = 1;
  const OUT = 2;
  const PAGE_SIZE = 3;
  const SUMS = 4;
  const RESULT = 5;
  const SEGMENT = 6;
  const I = 7;
  const SIZE = 8;
  const GOT = 9;
  const TMP = 10;
  const RAW = 11;
  const SUM = 12;
  const XOR = 13;
  const body = code(
    op.i64Const(0n), set(XOR),
    op.i32Const(0), set(I),
    op.block,
    op.loop,
    get(I), get(N), op.i32GeU, op.brIf(1),
    loadU32BE(get(P), 6, TMP), set(SIZE),
    get(P), op.i32Const(FRAME_HEADER), op.i32Add, get(SIZE), get(OUT), get(PAGE_SIZE), op.call(LZ4_DECODE), op.localTee(GOT),
    get(PAGE_SIZE), op.i32Ne, op.if,
    get(RESULT), get(GOT), op.i32Store(RESULT_DETAIL),
    get(I), op.return,
    op.end,
    op.i64Const(0n), get(OUT), get(PAGE_SIZE), op.call(UPDATE), set(RAW),
    loadU32BE(get(P), 0, TMP), get(RAW), op.i32Const(PAGE_SHIFT_TABLE), op.call(PAGE_FROM_RAW), op.localTee(SUM),
    get(XOR), op.i64Xor, set(XOR),
    get(SUMS), get(I), op.i32Const(3), op.i32Shl, op.i32Add, get(SUM), op.i64Store(0),
    // Header bytes the file checksum covers: 10 for flags 0x0001 (size field), 6 for 0x0000.
    get(SEGMENT), get(P), get(P), op.i32Load8U(5), op.i32Const(2), op.i32Shl, op.i32Const(PAGE_HEADER), op.i32Add,
    op.call(UPDATE), op.i32Const(PAGE_SHIFT_TABLE), op.call(SHIFT),
    get(RAW), op.i64Xor, set(SEGMENT),
    get(P), op.i32Const(FRAME_HEADER), op.i32Add, get(SIZE), op.i32Add, set(P),
    get(OUT), get(PAGE_SIZE), op.i32Add, set(OUT),
    get(I), op.i32Const(1), op.i32Add, set(I),
    op.br(0),
    op.end,
    op.end,
    get(RESULT), get(SEGMENT), op.i64Store(RESULT_SEGMENT),
    get(RESULT), get(XOR), op.i64Store(RESULT_XOR),
    get(N),
  );
  return { params: [I32, I32, I32, I32, I32, I32, I64], results: [I32], locals: [I32, I32, I32, I32, I64, I64, I64], body };
}

/**
 * `encodeFrames(pages, n, pageSize, out, pgnos, sums, result, segment) -> i32`: the encoder's
 * batch. For each of the `n` pages laid end to end from `pages`, numbered by the
 * little-endian u32s at `pgnos`, writes a frame at `out` (BE pgno, flags 0x0001, BE block
 * size, LZ4 block), stores the page checksum at `sums + 8·i`, and folds frame header + page
 * into `segment` and the XOR, as `decodeFrames` does. Returns the frames' byte length.
 *
 *   for i in 0..n:
 *     size = lz4Compress(page, pageSize, p + 10, table); write the header at p
 *     raw = update(0, page, pageSize); sums[i] = pageFromRaw(pgno, raw); xor ^= sums[i]
 *     segment = shift(update(segment, p, 10), pageTable) ^ raw
 *     p += 10 + size; page += pageSize
 */
function encodeFramesFunction(): FunctionParts {
  const PAGES = 0;
  const N = 1;
  const PAGE_SIZE = 2;
  const OUT = 3;
  const PGNOS = 4;
  const SUMS = 5;
  const RESULT = 6;
  const SEGMENT = 7;
  const I = 8;
  const P = 9;
  const SIZE = 10;
  const PGNO = 11;
  const TMP = 12;
  const RAW = 13;
  const SUM = 14;
  const XOR = 15;
  const body = code(
    op.i64Const(0n), set(XOR),
    op.i32Const(0), set(I),
    get(OUT), set(P),
    op.block,
    op.loop,
    get(I), get(N), op.i32GeU, op.brIf(1),
    get(PGNOS), get(I), op.i32Const(2), op.i32Shl, op.i32Add, op.i32Load(0), set(PGNO),
    get(PAGES), get(PAGE_SIZE), get(P), op.i32Const(FRAME_HEADER), op.i32Add, op.i32Const(LZ4_TABLE), op.call(LZ4_COMPRESS), set(SIZE),
    get(P), get(PGNO), byteSwap(TMP), op.i32Store(0),
    get(P), op.i32Const(0x0100), op.i32Store16(4), // flags 0x0001, big-endian
    get(P), get(SIZE), byteSwap(TMP), op.i32Store(6),
    op.i64Const(0n), get(PAGES), get(PAGE_SIZE), op.call(UPDATE), set(RAW),
    get(PGNO), get(RAW), op.i32Const(PAGE_SHIFT_TABLE), op.call(PAGE_FROM_RAW), op.localTee(SUM),
    get(XOR), op.i64Xor, set(XOR),
    get(SUMS), get(I), op.i32Const(3), op.i32Shl, op.i32Add, get(SUM), op.i64Store(0),
    get(SEGMENT), get(P), op.i32Const(FRAME_HEADER), op.call(UPDATE), op.i32Const(PAGE_SHIFT_TABLE), op.call(SHIFT),
    get(RAW), op.i64Xor, set(SEGMENT),
    get(P), op.i32Const(FRAME_HEADER), op.i32Add, get(SIZE), op.i32Add, set(P),
    get(PAGES), get(PAGE_SIZE), op.i32Add, set(PAGES),
    get(I), op.i32Const(1), op.i32Add, set(I),
    op.br(0),
    op.end,
    op.end,
    get(RESULT), get(SEGMENT), op.i64Store(RESULT_SEGMENT),
    get(RESULT), get(XOR), op.i64Store(RESULT_XOR),
    get(P), get(OUT), op.i32Sub,
  );
  return { params: [I32, I32, I32, I32, I32, I32, I32, I64], results: [I32], locals: [I32, I32, I32, I32, I32, I64, I64, I64], body };
}

/** The kernel's exports as JS sees them (i64 crosses the boundary as BigInt). */
export interface PageKernelExports {
  memory: WasmMemory;
  update(crc: bigint, p: number, n: number): bigint;
  shift(crc: bigint, table: number): bigint;
  pageFromRaw(pgno: number, raw: bigint, table: number): bigint;
  lz4Decode(src: number, srcLen: number, dst: number, dstLen: number): number;
  decodeFrames(p: number, n: number, out: number, pageSize: number, sums: number, result: number, segment: bigint): number;
  lz4Compress(src: number, n: number, dst: number, table: number): number;
  encodeFrames(pages: number, n: number, pageSize: number, out: number, pgnos: number, sums: number, result: number, segment: bigint): number;
}

/** Assembles the page kernel. With `memory.import`, the memory comes from the host as `env.memory`. */
export function buildPageKernelModule(initialPages: number, memory: MemoryOptions = {}): Uint8Array {
  const layout = crc64WasmLayout(KERNEL_SLICES);
  const functions = [];
  functions[UPDATE] = { name: 'update', ...updateFunction(layout) };
  functions[SHIFT] = { name: 'shift', ...shiftFunction() };
  functions[PAGE_FROM_RAW] = { name: 'pageFromRaw', ...pageFromRawFunction(SHIFT) };
  functions[LZ4_DECODE] = { name: 'lz4Decode', ...lz4DecodeFunction() };
  functions[DECODE_FRAMES] = { name: 'decodeFrames', ...decodeFramesFunction() };
  functions[LZ4_COMPRESS] = { name: 'lz4Compress', ...lz4CompressFunction() };
  functions[ENCODE_FRAMES] = { name: 'encodeFrames', ...encodeFramesFunction() };
  return assembleModule(initialPages, functions, memory);
}
