/**
 * A deliberately tiny WebAssembly binary assembler: just the instructions and sections
 * the CRC-64 kernel and the LTX page kernel (LZ4 block decoding, `ltx/page-kernel-module.ts`) use. The machine has no wat2wasm, and a hand-assembled base64 blob
 * could not be reviewed, so the kernel is written against this module and its bytes are
 * produced at load time. Opcode numbers follow the WebAssembly core specification
 * (binary format, section 5).
 */

/** A value type byte. */
export type ValType = typeof I32 | typeof I64 | typeof V128;
export const I32 = 0x7f;
export const I64 = 0x7e;
/** 128-bit SIMD vector (used only to move 16 bytes at a time). */
export const V128 = 0x7b;

/** One instruction (or a run of them) as encoded bytes. */
export type Code = readonly number[];

/** Unsigned LEB128, for indices, sizes and memory offsets. */
export function uleb(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uleb: ${value} is not a non-negative integer`);
  const out: number[] = [];
  do {
    const byte = value % 128;
    value = Math.floor(value / 128);
    out.push(value === 0 ? byte : byte | 0x80);
  } while (value !== 0);
  return out;
}

/** Signed LEB128, for `i32.const` and `i64.const` immediates. */
export function sleb(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n; // arithmetic shift: negative values converge to -1
    const signBitClear = (byte & 0x40) === 0;
    if ((value === 0n && signBitClear) || (value === -1n && !signBitClear)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** Memory access immediates: alignment as log2 bytes, then a constant byte offset. */
function memarg(alignLog2: number, offset: number): number[] {
  return [...uleb(alignLog2), ...uleb(offset)];
}

/** The instructions, named after their text-format mnemonics. */
export const op = {
  /** `block` with no result (blocktype 0x40 = empty). */
  block: [0x02, 0x40] as Code,
  /** `loop` with no result; `br` to it jumps back to its start. */
  loop: [0x03, 0x40] as Code,
  /** `if` with no result: runs its body when the popped i32 is non-zero. */
  if: [0x04, 0x40] as Code,
  else: [0x05] as Code,
  end: [0x0b] as Code,
  br: (depth: number): Code => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Code => [0x0d, ...uleb(depth)],
  return: [0x0f] as Code,
  call: (funcIndex: number): Code => [0x10, ...uleb(funcIndex)],
  drop: [0x1a] as Code,

  localGet: (index: number): Code => [0x20, ...uleb(index)],
  localSet: (index: number): Code => [0x21, ...uleb(index)],
  localTee: (index: number): Code => [0x22, ...uleb(index)],

  i32Load: (offset: number): Code => [0x28, ...memarg(2, offset)],
  i64Load: (offset: number): Code => [0x29, ...memarg(3, offset)],
  i32Load8U: (offset: number): Code => [0x2d, ...memarg(0, offset)],
  i32Load16U: (offset: number): Code => [0x2f, ...memarg(0, offset)],
  i32Store: (offset: number): Code => [0x36, ...memarg(0, offset)],
  i64Store: (offset: number): Code => [0x37, ...memarg(0, offset)],
  i32Store8: (offset: number): Code => [0x3a, ...memarg(0, offset)],
  i32Store16: (offset: number): Code => [0x3b, ...memarg(0, offset)],

  i32Const: (value: number): Code => [0x41, ...sleb(BigInt(value))],
  i64Const: (value: bigint): Code => [0x42, ...sleb(BigInt.asIntN(64, value))],

  i32Eqz: [0x45] as Code,
  i32Eq: [0x46] as Code,
  i32Ne: [0x47] as Code,
  i32LtU: [0x49] as Code,
  i32GtU: [0x4b] as Code,
  i32LeU: [0x4d] as Code,
  i32GeU: [0x4f] as Code,
  i32Add: [0x6a] as Code,
  i32Sub: [0x6b] as Code,
  i32And: [0x71] as Code,
  i32Or: [0x72] as Code,
  i32Xor: [0x73] as Code,
  i32Shl: [0x74] as Code,
  i32ShrU: [0x76] as Code,
  i32Rotl: [0x77] as Code,
  i32Rotr: [0x78] as Code,
  i32Mul: [0x6c] as Code,

  i64Eqz: [0x50] as Code,
  i64Ctz: [0x7a] as Code,
  i64And: [0x83] as Code,
  i64Or: [0x84] as Code,
  i64Xor: [0x85] as Code,
  i64ShrU: [0x88] as Code,

  i32WrapI64: [0xa7] as Code,
  i32GtS: [0x4a] as Code,

  /** `memory.copy`: pops destination, source, length; copies like memmove. */
  memoryCopy: [0xfc, ...uleb(10), 0x00, 0x00] as Code,
  /** `memory.fill`: pops destination, byte value, length. */
  memoryFill: [0xfc, ...uleb(11), 0x00] as Code,

  v128Load: (offset: number): Code => [0xfd, ...uleb(0), ...memarg(0, offset)],
  v128Store: (offset: number): Code => [0xfd, ...uleb(11), ...memarg(0, offset)],
} as const;

/** Concatenates instruction sequences into one. */
export function code(...parts: Code[]): number[] {
  return parts.flat();
}

/** One exported function of a module. */
export interface FunctionDef {
  name: string;
  params: ValType[];
  results: ValType[];
  /** Extra locals, numbered after the params. */
  locals: ValType[];
  /** The body without its final `end`, which the assembler adds. */
  body: number[];
}

/** A vector: element count then the elements. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...uleb(contents.length), ...contents];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

const SECTION_TYPE = 1;
const SECTION_IMPORT = 2;
const SECTION_FUNCTION = 3;
const SECTION_MEMORY = 5;
const SECTION_EXPORT = 7;
const SECTION_CODE = 10;
const EXPORT_FUNC = 0x00;
const EXPORT_MEMORY = 0x02;
const IMPORT_MEMORY = 0x02;
const FUNC_TYPE = 0x60;

/** Where the module's memory comes from. */
export interface MemoryOptions {
  /**
   * Import the memory as `env.memory` instead of defining it, so the host can create it
   * (e.g. a shared memory other threads write into). Shared memories need a maximum.
   */
  readonly import?: { readonly maximumPages: number; readonly shared: boolean };
}

/**
 * Assembles a module with one memory (exported as `memory`, `initialPages` of 64 KiB,
 * growable without limit unless imported with a maximum) and the given functions, each
 * exported under its name. Function i has type i and index i, so bodies can `call` each
 * other by position.
 */
export function assembleModule(initialPages: number, functions: FunctionDef[], memoryOptions: MemoryOptions = {}): Uint8Array {
  const types = functions.map((f) => [FUNC_TYPE, ...uleb(f.params.length), ...f.params, ...uleb(f.results.length), ...f.results]);
  const funcTypeIndices = functions.map((_, i) => uleb(i));
  const imported = memoryOptions.import;
  // Limits flags: 0 = minimum only, 1 = minimum and maximum, 3 = shared (maximum required).
  const limits = imported ? [imported.shared ? 0x03 : 0x01, ...uleb(initialPages), ...uleb(imported.maximumPages)] : [0x00, ...uleb(initialPages)];
  const exports = [
    ...functions.map((f, i) => [...name(f.name), EXPORT_FUNC, ...uleb(i)]),
    [...name('memory'), EXPORT_MEMORY, ...uleb(0)],
  ];
  const bodies = functions.map((f) => {
    // Locals are declared as (count, type) runs; one run per local keeps it simple.
    const locals = vec(f.locals.map((t) => [...uleb(1), t]));
    const fn = [...locals, ...f.body, ...op.end];
    return [...uleb(fn.length), ...fn];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // binary format version 1
    ...section(SECTION_TYPE, vec(types)),
    ...(imported ? section(SECTION_IMPORT, vec([[...name('env'), ...name('memory'), IMPORT_MEMORY, ...limits]])) : []),
    ...section(SECTION_FUNCTION, vec(funcTypeIndices)),
    ...(imported ? [] : section(SECTION_MEMORY, vec([limits]))),
    ...section(SECTION_EXPORT, vec(exports)),
    ...section(SECTION_CODE, vec(bodies)),
  ]);
}
