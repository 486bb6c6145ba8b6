/**
 * What the public CRC-64 functions need from an implementation. Two exist: the
 * WebAssembly kernel (fast path) and the pure-JS reference (tests and fallback).
 * Callers validate arguments first; engines assume registers are already in
 * [0, 2^64), lengths are non-negative safe integers and page numbers are u32.
 */
export interface Crc64Engine {
  /** Which implementation this is, for tests and measurements. */
  readonly kind: 'wasm' | 'js';
  /** Raw register update over `data` (no init, no xor-out). */
  raw(register: bigint, data: Uint8Array): bigint;
  /** Register after `length` zero bytes. */
  shift(register: bigint, length: number): bigint;
  /** LTX page checksum from the page's raw register `raw = raw(0n, page)` and its length. */
  pageFromRaw(pgno: number, raw: bigint, length: number): bigint;
}
