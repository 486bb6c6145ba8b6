import {
  CHECKSUM_FLAG,
  HEADER_FLAG_MASK,
  HEADER_FLAG_NO_CHECKSUM,
  HEADER_SIZE,
  LTX_MAGIC,
  LTX_VERSION,
  isValidPageSize,
} from './constants.ts';
import { CorruptError, UsageError } from './errors.ts';
import { txidFromBigInt, type TXID } from './txid.ts';

/** The latest (and, negated, earliest) time a JavaScript Date holds, in ms since the epoch. */
const MAX_DATE_MS = 8.64e15;

/** The 100-byte header that starts every LTX file. */
export interface LtxHeader {
  readonly version: number;
  readonly flags: number;
  readonly pageSize: number;
  /** Database size in pages after this file is applied. */
  readonly commit: number;
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  /** Database checksum before applying; zero for snapshots. */
  readonly preApplyChecksum: bigint;
  readonly walOffset: number;
  readonly walSize: number;
  readonly walSalt1: number;
  readonly walSalt2: number;
  readonly nodeID: bigint;
}

/** What a caller supplies to start a file; the rest defaults to zero (and `timestamp` to now). */
export type LtxHeaderInit = Pick<LtxHeader, 'pageSize' | 'commit' | 'minTXID' | 'maxTXID'> & Partial<LtxHeader>;

/** Fills defaults into a header init. */
export function completeHeader(init: LtxHeaderInit): LtxHeader {
  return {
    version: LTX_VERSION,
    flags: 0,
    timestamp: Date.now(),
    preApplyChecksum: 0n,
    walOffset: 0,
    walSize: 0,
    walSalt1: 0,
    walSalt2: 0,
    nodeID: 0n,
    ...init,
  };
}

/** A snapshot starts at TXID 1 and holds every page of the database. */
export function isSnapshot(header: Pick<LtxHeader, 'minTXID'>): boolean {
  return header.minTXID === 1;
}

/** True when the file carries no database checksums. */
export function hasNoChecksum(header: Pick<LtxHeader, 'flags'>): boolean {
  return (header.flags & HEADER_FLAG_NO_CHECKSUM) !== 0;
}

/** Returns the reason a header breaks the format's rules, or undefined when it is valid. */
export function headerProblem(h: LtxHeader): string | undefined {
  if (h.version !== LTX_VERSION) return `unsupported version ${h.version}`;
  if ((h.flags & ~HEADER_FLAG_MASK) !== 0) return `invalid flags 0x${(h.flags >>> 0).toString(16).padStart(8, '0')}`;
  if (!isValidPageSize(h.pageSize)) return `invalid page size ${h.pageSize}`;
  if (!Number.isInteger(h.commit) || h.commit < 0 || h.commit > 0xffff_ffff) return `invalid commit ${h.commit}`;
  if (h.minTXID < 1) return 'minimum TXID is zero';
  if (h.maxTXID < 1) return 'maximum TXID is zero';
  if (h.minTXID > h.maxTXID) return `TXIDs out of order (${h.minTXID} > ${h.maxTXID})`;
  // Tools print the timestamp as a date; one a JS Date cannot hold is damage, not a time.
  if (!Number.isSafeInteger(h.timestamp) || Math.abs(h.timestamp) > MAX_DATE_MS) return `timestamp ${h.timestamp} is not a valid date`;
  if (h.walOffset < 0 || h.walSize < 0) return 'negative WAL offset or size';
  if ((h.walSalt1 !== 0 || h.walSalt2 !== 0) && h.walOffset === 0) return 'WAL salts without a WAL offset';
  if (h.walOffset === 0 && h.walSize !== 0) return 'WAL size without a WAL offset';
  if (isSnapshot(h)) {
    if (h.preApplyChecksum !== 0n) return 'snapshot has a non-zero pre-apply checksum';
  } else if (hasNoChecksum(h)) {
    if (h.preApplyChecksum !== 0n) return 'pre-apply checksum set on a file without checksums';
  } else {
    if (h.preApplyChecksum === 0n) return 'pre-apply checksum missing on a non-snapshot file';
    if ((h.preApplyChecksum & CHECKSUM_FLAG) === 0n) return 'pre-apply checksum lacks the flag bit';
  }
  return undefined;
}

/** Serialises a header into its 100 bytes (big-endian). Throws `UsageError` if invalid. */
export function encodeHeader(h: LtxHeader): Buffer {
  const problem = headerProblem(h);
  if (problem) throw new UsageError(`invalid LTX header: ${problem}`);
  const b = Buffer.alloc(HEADER_SIZE);
  b.write(LTX_MAGIC, 0, 'latin1');
  b.writeUInt32BE(h.flags >>> 0, 4);
  b.writeUInt32BE(h.pageSize, 8);
  b.writeUInt32BE(h.commit, 12);
  b.writeBigUInt64BE(BigInt(h.minTXID), 16);
  b.writeBigUInt64BE(BigInt(h.maxTXID), 24);
  b.writeBigInt64BE(BigInt(h.timestamp), 32);
  b.writeBigUInt64BE(h.preApplyChecksum, 40);
  b.writeBigInt64BE(BigInt(h.walOffset), 48);
  b.writeBigInt64BE(BigInt(h.walSize), 56);
  b.writeUInt32BE(h.walSalt1 >>> 0, 64);
  b.writeUInt32BE(h.walSalt2 >>> 0, 68);
  b.writeBigUInt64BE(h.nodeID, 72);
  return b;
}

/** Parses and validates 100 header bytes; throws `CorruptError` naming `file`. */
export function decodeHeader(b: Uint8Array, file?: string): LtxHeader {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.byteLength < HEADER_SIZE) throw new CorruptError('header', `only ${buf.byteLength} of ${HEADER_SIZE} header bytes`, { file });
  const magic = buf.toString('latin1', 0, 4);
  if (magic !== LTX_MAGIC) throw new CorruptError('header', `bad magic ${JSON.stringify(magic)}, expected "${LTX_MAGIC}" (not an LTX file?)`, { file });
  let header: LtxHeader;
  try {
    header = {
      version: LTX_VERSION,
      flags: buf.readUInt32BE(4),
      pageSize: buf.readUInt32BE(8),
      commit: buf.readUInt32BE(12),
      minTXID: txidFromBigInt(buf.readBigUInt64BE(16), 'min TXID'),
      maxTXID: txidFromBigInt(buf.readBigUInt64BE(24), 'max TXID'),
      timestamp: safeNumber(buf.readBigInt64BE(32), 'timestamp'),
      preApplyChecksum: buf.readBigUInt64BE(40),
      walOffset: safeNumber(buf.readBigInt64BE(48), 'WAL offset'),
      walSize: safeNumber(buf.readBigInt64BE(56), 'WAL size'),
      walSalt1: buf.readUInt32BE(64),
      walSalt2: buf.readUInt32BE(68),
      nodeID: buf.readBigUInt64BE(72),
    };
  } catch (cause) {
    throw new CorruptError('header', (cause as Error).message, { file, cause });
  }
  const problem = headerProblem(header);
  if (problem) throw new CorruptError('header', problem, { file });
  return header;
}

function safeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new Error(`${what} ${value} out of range`);
  return Number(value);
}
