import { UsageError } from './errors.ts';

/**
 * A transaction ID: the replicator's own counter (not SQLite's), 1-based.
 * Held as a JS number; values above 2^53-1 are refused rather than rounded.
 */
export type TXID = number;

const TXID_PATTERN = /^[0-9a-f]{16}$/;
const MAX_TXID = BigInt(Number.MAX_SAFE_INTEGER);
const FILENAME_PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.ltx$/;

/** Formats a TXID as 16 lower-case hex digits. */
export function formatTXID(txid: TXID): string {
  assertTXID(txid);
  return txid.toString(16).padStart(16, '0');
}

/** Parses 16 lower-case hex digits; throws on anything else. */
export function parseTXID(text: string): TXID {
  if (!TXID_PATTERN.test(text)) throw new UsageError(`invalid TXID ${JSON.stringify(text)}: expected 16 lower-case hex digits`);
  return txidFromBigInt(BigInt(`0x${text}`), text);
}

/** Converts a u64 read from a file into a TXID, refusing values beyond 2^53-1. */
export function txidFromBigInt(value: bigint, context = 'TXID'): TXID {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`${context} ${value} is larger than this implementation supports (2^53-1)`);
  return Number(value);
}

/** Throws unless `txid` is a non-negative safe integer. */
export function assertTXID(txid: TXID, name = 'TXID'): void {
  if (!Number.isSafeInteger(txid) || txid < 0) throw new UsageError(`${name} must be a non-negative integer, got ${txid}`);
}

/** `<min>-<max>.ltx`, the name of every LTX file in a replica. */
export function formatLtxFilename(minTXID: TXID, maxTXID: TXID): string {
  return `${formatTXID(minTXID)}-${formatTXID(maxTXID)}.ltx`;
}

/** Parses `<min>-<max>.ltx` (1 ≤ min ≤ max); returns undefined for any other name. */
export function parseLtxFilename(name: string): { minTXID: TXID; maxTXID: TXID } | undefined {
  const m = FILENAME_PATTERN.exec(name);
  if (!m) return undefined;
  const min = BigInt(`0x${m[1]}`);
  const max = BigInt(`0x${m[2]}`);
  // Beyond 2^53-1 no TXID of ours can reach: a foreign or damaged name, skipped like any other.
  if (min > MAX_TXID || max > MAX_TXID) return undefined;
  const minTXID = Number(min);
  const maxTXID = Number(max);
  if (minTXID < 1 || minTXID > maxTXID) return undefined;
  return { minTXID, maxTXID };
}

/** True when a file covering `minTXID..maxTXID` can follow a position at `prevMaxTXID`. */
export function isContiguous(prevMaxTXID: TXID, minTXID: TXID, maxTXID: TXID): boolean {
  return minTXID <= prevMaxTXID + 1 && maxTXID > prevMaxTXID;
}
