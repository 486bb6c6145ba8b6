import { InvalidArgumentError } from 'commander';

/** Parses a TXID given as a decimal number or as 16 hex digits. */
export function parseTxidOption(value: string): number {
  if (/^[0-9a-f]{16}$/.test(value)) return Number.parseInt(value, 16);
  if (/^[0-9]+$/.test(value) && Number.isSafeInteger(Number(value)) && Number(value) >= 1) return Number(value);
  throw new InvalidArgumentError('expected a TXID: a positive decimal number or 16 hex digits');
}
