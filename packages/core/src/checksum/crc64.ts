/**
 * CRC-64/ISO as Go's `hash/crc64` computes it with `crc64.ISO`, and the LTX checksums
 * built on it. Runs on the WebAssembly kernel, or on the pure-JS reference where
 * WebAssembly is unavailable; both give identical results.
 *
 * "Raw register" below means the CRC state with no initial value and no final xor-out
 * applied. Because that update is linear over GF(2), a page's raw register can be
 * computed once and reused both for the running file checksum (`Crc64.updateRaw`) and
 * for the page checksum (`pageChecksumFromRaw`), instead of reading the page twice.
 */
import { CHECKSUM_FLAG } from '../ltx/constants.ts';
import type { Crc64Engine } from './crc64-engine.ts';
import { referenceEngine } from './crc64-reference.ts';
import { MASK64 } from './crc64-table.ts';
import { createWasmEngine } from './crc64-wasm.ts';

export { CHECKSUM_FLAG };

const U64_LIMIT = 1n << 64n;

let wasmFailure: unknown;

function pickEngine(): Crc64Engine {
  try {
    return createWasmEngine();
  } catch (error) {
    // No WebAssembly (node --jitless), or a host that forbids compiling it: correctness
    // beats speed there, and crc64Implementation() reports why.
    wasmFailure = error;
    return referenceEngine;
  }
}

const engine = pickEngine();

/** Which implementation the functions of this module run on: `wasm`, or `js` as a fallback. */
export function crc64Implementation(): { kind: 'wasm' | 'js'; wasmFailure: unknown } {
  return { kind: engine.kind, wasmFailure };
}

function checkRegister(value: bigint, name: string): void {
  if (typeof value !== 'bigint' || value < 0n || value >= U64_LIMIT) {
    throw new RangeError(`${name} must be a bigint in [0, 2^64), got ${String(value)}`);
  }
}

function checkLength(length: number): void {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`length must be a non-negative integer, got ${length}`);
}

function checkPgno(pgno: number): void {
  if (!Number.isInteger(pgno) || pgno < 0 || pgno > 0xffff_ffff) throw new RangeError(`pgno must be a u32, got ${pgno}`);
}

/** CRC-64/ISO of bytes (init and xor-out all ones), e.g. `crc64(ascii('123456789')) === 0xb90956c775a41001n`. */
export function crc64(data: Uint8Array): bigint {
  return engine.raw(MASK64, data) ^ MASK64;
}

/** Raw register update (no init, no xor-out) continuing from `register`. */
export function crc64Raw(register: bigint, data: Uint8Array): bigint {
  checkRegister(register, 'register');
  return engine.raw(register, data);
}

/** Register after feeding `length` zero bytes (cached tables per length). */
export function crc64Shift(register: bigint, length: number): bigint {
  checkRegister(register, 'register');
  checkLength(length);
  return engine.shift(register, length);
}

/** LTX page checksum: CRC-64/ISO over 4-byte big-endian pgno then data, with bit 63 set. */
export function pageChecksum(pgno: number, data: Uint8Array): bigint {
  checkPgno(pgno);
  return engine.pageFromRaw(pgno, engine.raw(0n, data), data.length);
}

/** Same as `pageChecksum` but from an already computed `raw = crc64Raw(0n, data)` and the data length. */
export function pageChecksumFromRaw(pgno: number, raw: bigint, length: number): bigint {
  checkPgno(pgno);
  checkRegister(raw, 'raw');
  checkLength(length);
  return engine.pageFromRaw(pgno, raw, length);
}

/** Streaming CRC-64/ISO, matching Go's `crc64.New(crc64.MakeTable(crc64.ISO))`. */
export class Crc64 {
  // Held raw (init applied, xor-out not yet) so updates need no per-call inversion.
  #register = MASK64;

  /** Feeds `data`. */
  update(data: Uint8Array): this {
    this.#register = engine.raw(this.#register, data);
    return this;
  }

  /**
   * Feeds data whose raw register `raw = crc64Raw(0n, data)` is already known, without
   * reading it again: the result equals `update(data)` for `length = data.length`.
   */
  updateRaw(raw: bigint, length: number): this {
    checkRegister(raw, 'raw');
    checkLength(length);
    this.#register = engine.shift(this.#register, length) ^ raw;
    return this;
  }

  /**
   * The raw register (initial value applied, xor-out not): lets a batch kernel continue the
   * stream from where it is (`crc64Raw(crc.state, bytes)`) and hand the result back with
   * `setState`.
   */
  get state(): bigint {
    return this.#register;
  }

  /** Continues from a raw register obtained from `state` and advanced over more bytes. */
  setState(register: bigint): this {
    checkRegister(register, 'register');
    this.#register = register;
    return this;
  }

  /** The CRC-64/ISO of everything fed so far (xor-out applied); feeding may continue. */
  digest(): bigint {
    return this.#register ^ MASK64;
  }

  /** Forgets everything fed so far. */
  reset(): this {
    this.#register = MASK64;
    return this;
  }
}
