import { UsageError } from './errors.ts';
import { formatTXID, parseTXID, type TXID } from './txid.ts';

/** Where a database stands: the last applied TXID and the database checksum after it. */
export interface Position {
  readonly txid: TXID;
  readonly postApplyChecksum: bigint;
}

/** `<txid>/<checksum>`, both as 16 hex digits. */
export function formatPosition(pos: Position): string {
  return `${formatTXID(pos.txid)}/${formatChecksum(pos.postApplyChecksum)}`;
}

export function parsePosition(text: string): Position {
  const [txid, checksum, ...rest] = text.split('/');
  if (txid === undefined || checksum === undefined || rest.length > 0) throw new UsageError(`invalid position ${JSON.stringify(text)}: expected <txid>/<checksum>`);
  return { txid: parseTXID(txid), postApplyChecksum: parseChecksum(checksum) };
}

/** A checksum as 16 lower-case hex digits. */
export function formatChecksum(value: bigint): string {
  return BigInt.asUintN(64, value).toString(16).padStart(16, '0');
}

export function parseChecksum(text: string): bigint {
  if (!/^[0-9a-f]{16}$/.test(text)) throw new UsageError(`invalid checksum ${JSON.stringify(text)}: expected 16 lower-case hex digits`);
  return BigInt(`0x${text}`);
}
