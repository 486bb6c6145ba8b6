/**
 * An LZ4 *block* decoder as WebAssembly, written against the project's mini assembler
 * (`checksum/wasm-assembler.ts`) from the block format description (sequences of a token,
 * literals, a 2-byte little-endian offset and a match; the last sequence has literals only).
 *
 * Why our own: lz4-napi can only return a new Buffer per call, so decoding a page cost a
 * native call, a 4 KiB allocation and a copy into WebAssembly memory for the CRC. This
 * decoder writes straight into linear memory, next to the CRC-64 kernel, so a batch of
 * pages is decoded and checksummed in one call with nothing allocated.
 *
 * Safety: every read is bounds-checked against the block and every write against the
 * output, and a match may not reach before the start of the output, so a malformed
 * block returns an error code instead of touching memory it does not own. For speed,
 * short copies move 16 bytes at once: the caller must keep 16 readable bytes after the
 * input block and 16 writable bytes after the output (`LZ4_SLACK`), whose contents are
 * then undefined.
 */
import { code, I32, op, type Code } from '../checksum/wasm-assembler.ts';
import type { FunctionParts } from '../checksum/crc64-wasm-module.ts';

/** Bytes after the input block and after the output that fast copies may touch. */
export const LZ4_SLACK = 16;

/** Returned by `lz4Decode` for a block that ends inside a sequence (truncated or malformed). */
export const LZ4_ERR_TRUNCATED = -1;
/** Returned when the block would produce more bytes than the output holds. */
export const LZ4_ERR_OVERFLOW = -2;
/** Returned when a match offset is zero or reaches before the start of the output. */
export const LZ4_ERR_OFFSET = -3;

/** What an `lz4Decode` result means, for error messages. */
export function describeLz4Result(result: number, expected: number): string {
  switch (result) {
    case LZ4_ERR_TRUNCATED:
      return 'the block ends inside a sequence (truncated or malformed)';
    case LZ4_ERR_OVERFLOW:
      return `the block expands to more than ${expected} bytes`;
    case LZ4_ERR_OFFSET:
      return 'a match offset is zero or points before the start of the page';
    default:
      return `the block expands to ${result} bytes, expected ${expected}`;
  }
}

// Locals of lz4Decode: the four parameters, then the working registers.
const SRC = 0;
const SRC_LEN = 1;
const DST = 2;
const DST_LEN = 3;
const IP = 4;
const IEND = 5;
const OP = 6;
const OEND = 7;
const TOKEN = 8;
const LEN = 9;
const BYTE = 10;
const OFFSET = 11;
const MATCH = 12;
const I = 13;

const get = op.localGet;
const set = op.localSet;
const i32 = op.i32Const;

/** `if (cond) return code` */
function failIf(cond: Code, errorCode: number): number[] {
  return code(cond, op.if, i32(errorCode), op.return, op.end);
}

/** `local += value` */
function addTo(local: number, value: Code): number[] {
  return code(get(local), value, op.i32Add, set(local));
}

/**
 * When LEN is 15, adds the extension bytes that follow: each byte is added, and a 255
 * means another byte follows.
 */
function extendLength(): number[] {
  return code(
    get(LEN), i32(15), op.i32Eq, op.if,
    op.loop,
    failIf(code(get(IP), get(IEND), op.i32GeU), LZ4_ERR_TRUNCATED),
    get(IP), op.i32Load8U(0), set(BYTE),
    addTo(IP, i32(1)),
    addTo(LEN, get(BYTE)),
    get(BYTE), i32(255), op.i32Eq, op.brIf(0),
    op.end,
    op.end,
  );
}

/** Copies 16 bytes from the address on top of `from` to `to` (both code that pushes an address). */
function copy16(to: Code, from: Code): number[] {
  return code(to, from, op.v128Load(0), op.v128Store(0));
}

/**
 * `lz4Decode(src, srcLen, dst, dstLen) -> i32`: decodes the block at memory[src, src+srcLen)
 * into memory[dst, …) and returns the bytes produced (at most dstLen), or a negative
 * `LZ4_ERR_*` code.
 *
 *   ip = src; op = dst
 *   loop:
 *     token = byte(ip++); len = token >> 4 (+ extension bytes)
 *     copy len literals (16 bytes at once when len ≤ 16, else memory.copy)
 *     if ip == iend: return op - dst                       ;; last sequence: literals only
 *     offset = u16le(ip); ip += 2; check 0 < offset ≤ op - dst
 *     len = (token & 15) (+ extension bytes) + 4
 *     copy the match: 16 bytes at once (offset ≥ 16), memory.copy (no overlap),
 *     memory.fill (offset 1: a run of one byte), 8 bytes at once (offset ≥ 8), else bytewise
 */
export function lz4DecodeFunction(): FunctionParts {
  const literals = code(
    get(TOKEN), i32(4), op.i32ShrU, set(LEN),
    extendLength(),
    failIf(code(get(LEN), get(IEND), get(IP), op.i32Sub, op.i32GtU), LZ4_ERR_TRUNCATED),
    failIf(code(get(LEN), get(OEND), get(OP), op.i32Sub, op.i32GtU), LZ4_ERR_OVERFLOW),
    get(LEN), i32(16), op.i32LeU, op.if,
    copy16(get(OP), get(IP)),
    op.else,
    get(OP), get(IP), get(LEN), op.memoryCopy,
    op.end,
    addTo(OP, get(LEN)),
    addTo(IP, get(LEN)),
  );

  // Copies LEN bytes from MATCH to OP in `step`-byte moves; only valid when offset ≥ step.
  const chunkedMatch = (step: 8 | 16): number[] =>
    code(
      i32(0), set(I),
      op.loop,
      step === 16
        ? copy16(code(get(OP), get(I), op.i32Add), code(get(MATCH), get(I), op.i32Add))
        : code(get(OP), get(I), op.i32Add, get(MATCH), get(I), op.i32Add, op.i64Load(0), op.i64Store(0)),
      addTo(I, i32(step)),
      get(I), get(LEN), op.i32LtU, op.brIf(0),
      op.end,
    );

  const match = code(
    failIf(code(get(IEND), get(IP), op.i32Sub, i32(2), op.i32LtU), LZ4_ERR_TRUNCATED),
    get(IP), op.i32Load16U(0), set(OFFSET),
    addTo(IP, i32(2)),
    failIf(code(get(OFFSET), op.i32Eqz), LZ4_ERR_OFFSET),
    failIf(code(get(OFFSET), get(OP), get(DST), op.i32Sub, op.i32GtU), LZ4_ERR_OFFSET),
    get(TOKEN), i32(15), op.i32And, set(LEN),
    extendLength(),
    addTo(LEN, i32(4)),
    failIf(code(get(LEN), get(OEND), get(OP), op.i32Sub, op.i32GtU), LZ4_ERR_OVERFLOW),
    get(OP), get(OFFSET), op.i32Sub, set(MATCH),

    get(OFFSET), i32(16), op.i32GeU, op.if,
    /**/ get(LEN), i32(16), op.i32LeU, op.if,
    /**/ /**/ copy16(get(OP), get(MATCH)),
    /**/ op.else,
    /**/ /**/ get(OFFSET), get(LEN), op.i32GeU, op.if,
    /**/ /**/ /**/ get(OP), get(MATCH), get(LEN), op.memoryCopy,
    /**/ /**/ op.else,
    /**/ /**/ /**/ chunkedMatch(16),
    /**/ /**/ op.end,
    /**/ op.end,
    op.else,
    /**/ get(OFFSET), i32(1), op.i32Eq, op.if,
    /**/ /**/ get(OP), get(MATCH), op.i32Load8U(0), get(LEN), op.memoryFill,
    /**/ op.else,
    /**/ /**/ get(OFFSET), get(LEN), op.i32GeU, op.if,
    /**/ /**/ /**/ get(OP), get(MATCH), get(LEN), op.memoryCopy,
    /**/ /**/ op.else,
    /**/ /**/ /**/ get(OFFSET), i32(8), op.i32GeU, op.if,
    /**/ /**/ /**/ /**/ chunkedMatch(8),
    /**/ /**/ /**/ op.else,
    /**/ /**/ /**/ /**/ i32(0), set(I),
    /**/ /**/ /**/ /**/ op.loop,
    /**/ /**/ /**/ /**/ get(OP), get(I), op.i32Add, get(MATCH), get(I), op.i32Add, op.i32Load8U(0), op.i32Store8(0),
    /**/ /**/ /**/ /**/ addTo(I, i32(1)),
    /**/ /**/ /**/ /**/ get(I), get(LEN), op.i32LtU, op.brIf(0),
    /**/ /**/ /**/ /**/ op.end,
    /**/ /**/ /**/ op.end,
    /**/ /**/ op.end,
    /**/ op.end,
    op.end,
    addTo(OP, get(LEN)),
  );

  const body = code(
    get(SRC), set(IP),
    get(SRC), get(SRC_LEN), op.i32Add, set(IEND),
    get(DST), set(OP),
    get(DST), get(DST_LEN), op.i32Add, set(OEND),
    op.block, // $done
    op.loop, // $sequence
    failIf(code(get(IP), get(IEND), op.i32GeU), LZ4_ERR_TRUNCATED),
    get(IP), op.i32Load8U(0), set(TOKEN),
    addTo(IP, i32(1)),
    literals,
    get(IP), get(IEND), op.i32Eq, op.brIf(1), // to $done: the block ended after literals
    match,
    op.br(0), // next sequence
    op.end,
    op.end,
    get(OP), get(DST), op.i32Sub,
  );
  return { params: [I32, I32, I32, I32], results: [I32], locals: new Array(I - DST_LEN).fill(I32), body };
}
