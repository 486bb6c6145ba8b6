/**
 * An LZ4 *block* compressor as WebAssembly, written against the project's mini assembler
 * from the block format description: greedy matching through a 4096-entry hash table of
 * 4-byte sequences, the search step growing after every 64 misses (LZ4's "fast" mode), and
 * the format's end rules kept (the last match starts at least 12 bytes before the end and
 * the last 5 bytes are literals), so any LZ4 decoder reads the output.
 *
 * Why our own: lz4-napi returns a new Buffer per page, whose memory lives outside the JS
 * heap until a garbage collection finds it; a worker compressing a large snapshot grew to
 * hundreds of MB that way. This one writes straight into kernel memory and allocates nothing.
 * Inputs are at most 64 KiB (an LTX page), so table positions fit 16 bits.
 */
import { code, I32, I64, op, type Code, type ValType } from '../checksum/wasm-assembler.ts';
import type { FunctionParts } from '../checksum/crc64-wasm-module.ts';

/** Bytes of the hash table the compressor needs in memory (4096 × u16). */
export const LZ4_HASH_TABLE_BYTES = 4096 * 2;
/** Largest input the compressor takes (table positions are 16 bits). */
export const LZ4_MAX_INPUT = 65536;

/** Matches end at least this far before the end: the last bytes are always literals. */
const LAST_LITERALS = 5;
/** A match starts at least this far before the end. */
const MF_LIMIT = 12;

// Locals: the four parameters, then the working registers.
const SRC = 0;
const N = 1;
const DST = 2;
const TABLE = 3;
const END = 4;
const OUT = 5;
const ANCHOR = 6;
const IP = 7;
const REF = 8;
const MF = 9;
const MATCH_LIMIT = 10;
const STEP = 11;
const SEARCH = 12;
const SEQ = 13;
const SLOT = 14;
const TOKEN_AT = 15;
const TOKEN = 16;
const LEN = 17;
const P = 18;
const Q = 19;
const DIFF = 20; // i64

const get = op.localGet;
const set = op.localSet;
const i32 = op.i32Const;

function addTo(local: number, value: Code): number[] {
  return code(get(local), value, op.i32Add, set(local));
}

/** Address of the table entry for the 4 bytes in SEQ: `table + 2·((seq · 2654435761) >>> 20)`. */
function tableSlot(): number[] {
  return code(get(TABLE), get(SEQ), i32(2654435761 | 0), op.i32Mul, i32(20), op.i32ShrU, i32(1), op.i32Shl, op.i32Add);
}

/** Writes the length extension bytes for LEN (the part beyond 15): 255s, then the rest. */
function emitExtension(): number[] {
  return code(
    op.block,
    op.loop,
    get(LEN), i32(255), op.i32LtU, op.brIf(1),
    get(OUT), i32(255), op.i32Store8(0),
    addTo(OUT, i32(1)),
    get(LEN), i32(255), op.i32Sub, set(LEN),
    op.br(0),
    op.end,
    op.end,
    get(OUT), get(LEN), op.i32Store8(0),
    addTo(OUT, i32(1)),
  );
}

/**
 * Reserves the token byte and writes the literal-length field and the literals from
 * ANCHOR up to the address on top of `until`: TOKEN gets the high nibble.
 */
function emitLiterals(until: Code): number[] {
  return code(
    get(OUT), set(TOKEN_AT),
    addTo(OUT, i32(1)),
    until, get(ANCHOR), op.i32Sub, set(LEN),
    get(LEN), i32(15), op.i32GeU, op.if,
    i32(0xf0), set(TOKEN),
    get(LEN), i32(15), op.i32Sub, set(LEN),
    emitExtension(),
    until, get(ANCHOR), op.i32Sub, set(LEN),
    op.else,
    get(LEN), i32(4), op.i32Shl, set(TOKEN),
    op.end,
    get(OUT), get(ANCHOR), get(LEN), op.memoryCopy,
    addTo(OUT, get(LEN)),
  );
}

/**
 * `lz4Compress(src, n, dst, table) -> i32`: compresses memory[src, src+n) into an LZ4 block
 * at dst (room for `compressBound(n)` bytes needed) using the 8 KiB hash table at `table`,
 * and returns the block's length; -1 when n exceeds 64 KiB.
 *
 *   if n ≥ 13:
 *     clear the table; ip = src + 1
 *     loop:                                   ;; one sequence per turn
 *       repeat: if ip > end - 12: stop        ;; find a 4-byte match through the table
 *               ref = table[hash(ip)]; table[hash(ip)] = ip
 *               until bytes(ref, 4) == bytes(ip, 4); else ip += step (grows every 64 misses)
 *       extend the match backwards while the bytes before agree (not past the literals' start)
 *       emit token, literal length, literals, offset ip - ref
 *       extend forwards 8 bytes at a time (then bytewise) up to end - 5; emit match length
 *       ip = anchor = match end; if ip > end - 12: stop; table[hash(ip - 2)] = ip - 2
 *   emit the remaining bytes as literals
 */
export function lz4CompressFunction(): FunctionParts {
  const searchMatch = code(
    i32(1), set(STEP),
    i32(65), set(SEARCH),
    op.block, // $found
    op.loop, // $search
    get(IP), get(MF), op.i32GtU, op.brIf(3), // to $last: no room for another match
    get(IP), op.i32Load(0), set(SEQ),
    tableSlot(), set(SLOT),
    get(SRC), get(SLOT), op.i32Load16U(0), op.i32Add, set(REF),
    get(SLOT), get(IP), get(SRC), op.i32Sub, op.i32Store16(0),
    get(REF), op.i32Load(0), get(SEQ), op.i32Eq, op.brIf(1), // to $found
    addTo(IP, get(STEP)),
    get(SEARCH), i32(6), op.i32ShrU, set(STEP),
    addTo(SEARCH, i32(1)),
    op.br(0),
    op.end,
    op.end,
  );

  // Backwards: while ip > anchor && ref > src && mem[ip-1] == mem[ref-1].
  const catchUp = code(
    op.block,
    op.loop,
    get(IP), get(ANCHOR), op.i32LeU, op.brIf(1),
    get(REF), get(SRC), op.i32LeU, op.brIf(1),
    get(IP), i32(1), op.i32Sub, op.i32Load8U(0), get(REF), i32(1), op.i32Sub, op.i32Load8U(0), op.i32Ne, op.brIf(1),
    get(IP), i32(1), op.i32Sub, set(IP),
    get(REF), i32(1), op.i32Sub, set(REF),
    op.br(0),
    op.end,
    op.end,
  );

  // Forwards from 4 bytes in: P ends at the first differing byte (or the match limit).
  const extend = code(
    get(IP), i32(4), op.i32Add, set(P),
    get(REF), i32(4), op.i32Add, set(Q),
    op.block, // $counted
    op.block, // $narrow
    op.loop, // $wide
    get(P), i32(8), op.i32Add, get(MATCH_LIMIT), op.i32GtU, op.brIf(1), // to $narrow
    get(P), op.i64Load(0), get(Q), op.i64Load(0), op.i64Xor, op.localTee(DIFF),
    op.i64Eqz, op.i32Eqz, op.if,
    get(DIFF), op.i64Ctz, op.i32WrapI64, i32(3), op.i32ShrU, get(P), op.i32Add, set(P),
    op.br(3), // to $counted
    op.end,
    addTo(P, i32(8)),
    addTo(Q, i32(8)),
    op.br(0),
    op.end,
    op.end,
    op.block, // $bytesDone
    op.loop,
    get(P), get(MATCH_LIMIT), op.i32GeU, op.brIf(1),
    get(P), op.i32Load8U(0), get(Q), op.i32Load8U(0), op.i32Ne, op.brIf(1),
    addTo(P, i32(1)),
    addTo(Q, i32(1)),
    op.br(0),
    op.end,
    op.end,
    op.end, // $counted
  );

  const body = code(
    get(N), i32(65536), op.i32GtU, op.if, i32(-1), op.return, op.end,
    get(SRC), get(N), op.i32Add, set(END),
    get(DST), set(OUT),
    get(SRC), set(ANCHOR),
    op.block, // $last
    get(N), i32(MF_LIMIT + 1), op.i32LtU, op.brIf(0),
    get(END), i32(MF_LIMIT), op.i32Sub, set(MF),
    get(END), i32(LAST_LITERALS), op.i32Sub, set(MATCH_LIMIT),
    get(TABLE), i32(0), i32(4096 * 2), op.memoryFill,
    get(SRC), i32(1), op.i32Add, set(IP),
    op.loop, // $sequence
    searchMatch,
    catchUp,
    emitLiterals(get(IP)),
    get(OUT), get(IP), get(REF), op.i32Sub, op.i32Store16(0),
    addTo(OUT, i32(2)),
    extend,
    get(P), get(IP), op.i32Sub, i32(4), op.i32Sub, set(LEN),
    get(LEN), i32(15), op.i32GeU, op.if,
    get(TOKEN), i32(15), op.i32Or, set(TOKEN),
    get(LEN), i32(15), op.i32Sub, set(LEN),
    emitExtension(),
    op.else,
    get(TOKEN), get(LEN), op.i32Or, set(TOKEN),
    op.end,
    get(TOKEN_AT), get(TOKEN), op.i32Store8(0),
    get(P), set(IP),
    get(P), set(ANCHOR),
    get(IP), get(MF), op.i32GtU, op.brIf(1), // to $last
    get(IP), i32(2), op.i32Sub, op.i32Load(0), set(SEQ),
    tableSlot(), get(IP), i32(2), op.i32Sub, get(SRC), op.i32Sub, op.i32Store16(0),
    op.br(0),
    op.end, // $sequence
    op.end, // $last
    emitLiterals(get(END)),
    get(TOKEN_AT), get(TOKEN), op.i32Store8(0),
    get(OUT), get(DST), op.i32Sub,
  );
  const locals: ValType[] = [...new Array<ValType>(DIFF - END).fill(I32), I64];
  return { params: [I32, I32, I32, I32], results: [I32], locals, body };
}
