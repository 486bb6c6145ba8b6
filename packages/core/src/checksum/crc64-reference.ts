/**
 * Pure-JS CRC-64/ISO: a plain bytewise table walk. It is the oracle the WebAssembly
 * kernel is tested against, and the fallback where `WebAssembly` is missing (for
 * example `node --jitless`), so it favours being obviously right over being fast.
 */
import { CHECKSUM_FLAG } from '../ltx/constants.ts';
import type { Crc64Engine } from './crc64-engine.ts';
import { MASK64, makeShiftTable, makeSlicingTables } from './crc64-table.ts';

// The bytewise table split into 32-bit halves: the per-byte loop then runs on plain
// numbers, since BigInt arithmetic per byte would be ~50x slower.
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
{
  const table = makeSlicingTables(1);
  for (let b = 0; b < 256; b++) {
    const entry = table[b]!;
    TABLE_LO[b] = Number(entry & 0xffff_ffffn);
    TABLE_HI[b] = Number(entry >> 32n);
  }
}

/** Raw register update (no init, no xor-out), one byte at a time. */
export function crc64RawReference(register: bigint, data: Uint8Array): bigint {
  let lo = Number(register & 0xffff_ffffn);
  let hi = Number((register >> 32n) & 0xffff_ffffn);
  for (let i = 0; i < data.length; i++) {
    const index = (lo ^ data[i]!) & 0xff;
    // 64-bit `register >> 8` spread over the two halves.
    lo = ((lo >>> 8) | (hi << 24)) ^ TABLE_LO[index]!;
    hi = (hi >>> 8) ^ TABLE_HI[index]!;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** CRC-64/ISO of `data` (init and xor-out all ones), computed bytewise. */
export function crc64Reference(data: Uint8Array): bigint {
  return crc64RawReference(MASK64, data) ^ MASK64;
}

// Shift tables are 16 KiB each; a bounded cache keeps odd lengths from piling up.
const MAX_CACHED_SHIFT_TABLES = 32;
const shiftTables = new Map<number, BigUint64Array>();

function shiftTableFor(length: number): BigUint64Array {
  let table = shiftTables.get(length);
  if (table === undefined) {
    if (shiftTables.size >= MAX_CACHED_SHIFT_TABLES) shiftTables.delete(shiftTables.keys().next().value!);
    table = makeShiftTable(length);
    shiftTables.set(length, table);
  }
  return table;
}

/** Register after feeding `length` zero bytes, by 8 lookups in a per-length table. */
export function crc64ShiftReference(register: bigint, length: number): bigint {
  if (length === 0) return register;
  const table = shiftTableFor(length);
  let result = 0n;
  for (let k = 0; k < 8; k++) {
    result ^= table[k * 256 + Number((register >> BigInt(8 * k)) & 0xffn)]!;
  }
  return result;
}

const pgnoBytes = new Uint8Array(4);
const pgnoView = new DataView(pgnoBytes.buffer);

/** LTX page checksum from a page's raw register, using only the reference code. */
export function pageChecksumFromRawReference(pgno: number, raw: bigint, length: number): bigint {
  pgnoView.setUint32(0, pgno, false);
  const afterPgno = crc64RawReference(MASK64, pgnoBytes);
  return (crc64ShiftReference(afterPgno, length) ^ raw ^ MASK64) | CHECKSUM_FLAG;
}

/** The reference as an engine, used when WebAssembly is unavailable. */
export const referenceEngine: Crc64Engine = {
  kind: 'js',
  raw: crc64RawReference,
  shift: crc64ShiftReference,
  pageFromRaw: pageChecksumFromRawReference,
};
