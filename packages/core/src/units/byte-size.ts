import { UsageError } from '../ltx/errors.ts';

// Litestream parses sizes with go-humanize: the SI forms (K, KB, M, MB, …) are powers of
// 1000 and the IEC forms (Ki, KiB, Mi, MiB, …) powers of 1024; units ignore case.
const UNIT_BYTES: ReadonlyMap<string, bigint> = new Map(
  ['k', 'm', 'g', 't', 'p', 'e'].flatMap((prefix, i) => {
    const si = 1000n ** BigInt(i + 1);
    const iec = 1024n ** BigInt(i + 1);
    return [
      [prefix, si],
      [`${prefix}b`, si],
      [`${prefix}i`, iec],
      [`${prefix}ib`, iec],
    ] as [string, bigint][];
  }).concat([
    ['', 1n],
    ['b', 1n],
  ]),
);

/** The hint every size error ends with. */
export const SIZE_HINT = 'use forms like 5242880, 5MB, 5MiB, 1.5GB; KB/MB/GB count in 1000s, KiB/MiB/GiB in 1024s';

/**
 * Parses a byte size the way Litestream does (`part-size`): a number, optionally with a
 * fraction and `,` thousands separators, optionally followed (spaces allowed) by a unit:
 * `B`, `K`/`KB` (1000), `Ki`/`KiB` (1024), and likewise `M`, `G`, `T`, `P`, `E`; case does
 * not matter. A plain number counts bytes. Fractions of a byte are dropped. Returns the
 * number of bytes; throws `UsageError` naming the text when it is not a size or exceeds
 * what a JavaScript number holds exactly (2^53 − 1 bytes, about 9 PB).
 */
export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw invalid(String(input));
    return input;
  }
  const text = input.trim();
  const match = /^([\d.,]*)(.*)$/s.exec(text);
  const digits = (match?.[1] ?? '').replaceAll(',', '');
  const unit = (match?.[2] ?? '').trim().toLowerCase();
  const number = /^(\d*)(?:\.(\d*))?$/.exec(digits);
  const whole = number?.[1] ?? '';
  const fraction = number?.[2] ?? '';
  if (!number || (whole === '' && fraction === '')) throw invalid(input);
  const multiplier = UNIT_BYTES.get(unit);
  if (multiplier === undefined) throw invalid(input);
  // Exact decimal arithmetic, so 4.35MB is 4350000 bytes and not 4349999.
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(`${whole || '0'}${fraction}`) * multiplier) / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`size ${JSON.stringify(input)} is too large (at most ${Number.MAX_SAFE_INTEGER} bytes)`);
  }
  return Number(bytes);
}

function invalid(text: string): UsageError {
  return new UsageError(`invalid size ${JSON.stringify(text)} (${SIZE_HINT})`);
}
