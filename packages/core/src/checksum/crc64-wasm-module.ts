/**
 * Source of the CRC-64/ISO WebAssembly kernel, written against the mini assembler in
 * `wasm-assembler.ts`. Each function is given in WAT-like pseudocode in its comment.
 *
 * Memory layout (all offsets in bytes, every region 8-byte aligned):
 *
 *   [0, slices·2048)                 slicing tables, filled by JS at start-up
 *   [scratch, scratch + 64 KiB)      input: JS copies caller bytes here in chunks
 *   [shiftSlots, …)                  16 KiB "feed L zero bytes" tables, one per cached L
 *
 * The kernel never allocates; JS grows the memory when it needs another shift slot.
 */
import { assembleModule, code, I32, I64, op, type Code, type FunctionDef, type ValType } from './wasm-assembler.ts';

/** A function definition before it is given its export name. */
export type FunctionParts = Omit<FunctionDef, 'name'>;

/** Bytes in one 256-entry table of u64. */
export const TABLE_BYTES = 256 * 8;
/** Bytes in one shift table: 8 tables, one per byte of the register. */
export const SHIFT_TABLE_BYTES = 8 * TABLE_BYTES;
/** Size of the input window JS copies data through. */
export const SCRATCH_BYTES = 64 * 1024;
/** WebAssembly page size. */
export const WASM_PAGE_BYTES = 64 * 1024;

/** Where everything lives in linear memory for a given slicing width. */
export interface Crc64WasmLayout {
  /** Input bytes consumed per iteration of the main loop (8 or 16). */
  slices: number;
  scratchOffset: number;
  shiftSlotsOffset: number;
}

/** Memory layout for slicing-by-`slices`. */
export function crc64WasmLayout(slices: number): Crc64WasmLayout {
  const scratchOffset = slices * TABLE_BYTES;
  return { slices, scratchOffset, shiftSlotsOffset: scratchOffset + SCRATCH_BYTES };
}

/**
 * Address of the table entry for byte `byteIndex` (0..3) of the i32 local `word`,
 * already scaled by 8: `(word >>> (8·byteIndex - 3)) & 0x7f8` — one shift and one mask,
 * the multiply-by-8 folded into the shift.
 */
function entryAddress(word: number, byteIndex: number): number[] {
  const shift = 8 * byteIndex - 3;
  return code(
    op.localGet(word),
    shift < 0 ? code(op.i32Const(-shift), op.i32Shl) : code(op.i32Const(shift), op.i32ShrU),
    op.i32Const(0x7f8),
    op.i32And,
  );
}

/** XORs the i64 values the sequences push, as a balanced tree so the loads overlap. */
function xorTree(parts: number[][]): number[] {
  if (parts.length === 1) return parts[0]!;
  const half = parts.length >> 1;
  return code(xorTree(parts.slice(0, half)), xorTree(parts.slice(half)), op.i64Xor);
}

/**
 * `update(crc: i64, p: i32, n: i32) -> i64`: raw register update over memory[p, p+n).
 *
 *   end = p + n; blockEnd = p + (n & -S)
 *   while p < blockEnd:                        ;; slicing-by-S, S bytes per turn
 *     words w[0..S/4) = i32 loads at p; w[0] ^= low(crc); w[1] ^= high(crc)
 *     crc = XOR over i of T[S-1-i][byte i]      ;; byte i sits in word i/4
 *     p += S
 *   while p < end:                             ;; classic bytewise tail
 *     crc = T0[(crc ^ mem[p]) & 0xff] ^ (crc >> 8); p += 1
 *   return crc
 */
export function updateFunction(layout: Crc64WasmLayout): FunctionParts {
  const S = layout.slices;
  const CRC = 0;
  const P = 1;
  const N = 2;
  const END = 3;
  const BLOCK_END = 4;
  const WORDS = 5; // locals 5 .. 5 + S/4 - 1 hold the input words of the current turn
  const wordCount = S / 4;

  const loadWords: Code[] = [];
  for (let w = 0; w < wordCount; w++) {
    const word = code(op.localGet(P), op.i32Load(4 * w));
    if (w === 0) {
      // low half of the register meets the first 4 input bytes
      loadWords.push(code(op.localGet(CRC), op.i32WrapI64, word, op.i32Xor, op.localSet(WORDS)));
    } else if (w === 1) {
      loadWords.push(code(op.localGet(CRC), op.i64Const(32n), op.i64ShrU, op.i32WrapI64, word, op.i32Xor, op.localSet(WORDS + 1)));
    } else {
      loadWords.push(code(word, op.localSet(WORDS + w)));
    }
  }
  const lookups: number[][] = [];
  for (let i = 0; i < S; i++) {
    const table = S - 1 - i;
    lookups.push(code(entryAddress(WORDS + (i >> 2), i & 3), op.i64Load(table * TABLE_BYTES)));
  }

  const body = code(
    op.localGet(P), op.localGet(N), op.i32Add, op.localSet(END),
    op.localGet(P), op.localGet(N), op.i32Const(-S), op.i32And, op.i32Add, op.localSet(BLOCK_END),

    op.block,
    op.localGet(P), op.localGet(BLOCK_END), op.i32GeU, op.brIf(0), // no whole block
    op.loop,
    ...loadWords,
    xorTree(lookups), op.localSet(CRC),
    op.localGet(P), op.i32Const(S), op.i32Add, op.localTee(P),
    op.localGet(BLOCK_END), op.i32LtU, op.brIf(0), // next block
    op.end,
    op.end,

    op.block,
    op.localGet(P), op.localGet(END), op.i32GeU, op.brIf(0), // no tail
    op.loop,
    op.localGet(CRC), op.i32WrapI64, op.localGet(P), op.i32Load8U(0), op.i32Xor,
    op.i32Const(0xff), op.i32And, op.i32Const(3), op.i32Shl, op.i64Load(0), // T0[(crc ^ byte) & 0xff]
    op.localGet(CRC), op.i64Const(8n), op.i64ShrU, op.i64Xor, op.localSet(CRC),
    op.localGet(P), op.i32Const(1), op.i32Add, op.localTee(P),
    op.localGet(END), op.i32LtU, op.brIf(0),
    op.end,
    op.end,

    op.localGet(CRC),
  );
  return { params: [I64, I32, I32], results: [I64], locals: [I32, I32, ...new Array<ValType>(wordCount).fill(I32)], body };
}

/**
 * `shift(crc: i64, table: i32) -> i64`: the register after L zero bytes, where `table`
 * points at the shift table built for L.
 *
 *   lo = low(crc); hi = high(crc)
 *   return XOR over k of mem64[table + k·2048 + 8·(byte k of crc)]
 */
export function shiftFunction(): FunctionParts {
  const CRC = 0;
  const TABLE = 1;
  const LO = 2;
  const HI = 3;
  const lookups: number[][] = [];
  for (let k = 0; k < 8; k++) {
    lookups.push(code(op.localGet(TABLE), entryAddress(k < 4 ? LO : HI, k & 3), op.i32Add, op.i64Load(k * TABLE_BYTES)));
  }
  const body = code(
    op.localGet(CRC), op.i32WrapI64, op.localSet(LO),
    op.localGet(CRC), op.i64Const(32n), op.i64ShrU, op.i32WrapI64, op.localSet(HI),
    xorTree(lookups),
  );
  return { params: [I64, I32], results: [I64], locals: [I32, I32], body };
}

/**
 * `pageFromRaw(pgno: i32, raw: i64, table: i32) -> i64`: the LTX page checksum from the
 * page's raw register, `table` being the shift table for the page length.
 *
 *   crc = ~0
 *   for b in pgno's 4 bytes, big-endian: crc = T0[(crc ^ b) & 0xff] ^ (crc >> 8)
 *   return (shift(crc, table) ^ raw ^ ~0) | 1 << 63
 */
export function pageFromRawFunction(shiftIndex: number): FunctionParts {
  const PGNO = 0;
  const RAW = 1;
  const TABLE = 2;
  const CRC = 3;
  const steps: number[][] = [24, 16, 8, 0].map((bits) =>
    code(
      op.localGet(CRC), op.i32WrapI64, op.localGet(PGNO), op.i32Const(bits), op.i32ShrU, op.i32Xor,
      op.i32Const(0xff), op.i32And, op.i32Const(3), op.i32Shl, op.i64Load(0),
      op.localGet(CRC), op.i64Const(8n), op.i64ShrU, op.i64Xor, op.localSet(CRC),
    ),
  );
  const body = code(
    op.i64Const(-1n), op.localSet(CRC),
    ...steps,
    op.localGet(CRC), op.localGet(TABLE), op.call(shiftIndex),
    op.localGet(RAW), op.i64Xor,
    op.i64Const(-1n), op.i64Xor,
    op.i64Const(1n << 63n), op.i64Or,
  );
  return { params: [I32, I64, I32], results: [I64], locals: [I64], body };
}

/** Function indices, in the order `buildCrc64WasmModule` assembles them. */
const UPDATE = 0;
const SHIFT = 1;
const PAGE_FROM_RAW = 2;

/**
 * The part of `WebAssembly.Memory` the engine uses. Typed here because the project's
 * `lib` (ES2023, no DOM) and `@types/node` do not declare the WebAssembly globals.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

/** The kernel's exports, as JS sees them (i64 crosses the boundary as BigInt). */
export interface Crc64WasmExports {
  memory: WasmMemory;
  update(crc: bigint, p: number, n: number): bigint;
  shift(crc: bigint, table: number): bigint;
  pageFromRaw(pgno: number, raw: bigint, table: number): bigint;
}

/** Assembles the kernel for slicing-by-`slices` (8 or 16) with room for `initialPages` of memory. */
export function buildCrc64WasmModule(slices: number, initialPages: number): Uint8Array {
  if (slices !== 8 && slices !== 16) throw new RangeError(`slices must be 8 or 16, got ${slices}`);
  const layout = crc64WasmLayout(slices);
  const functions: FunctionDef[] = [];
  functions[UPDATE] = { name: 'update', ...updateFunction(layout) };
  functions[SHIFT] = { name: 'shift', ...shiftFunction() };
  functions[PAGE_FROM_RAW] = { name: 'pageFromRaw', ...pageFromRawFunction(SHIFT) };
  return assembleModule(initialPages, functions);
}
