import { HEADER_SIZE, LTX_MAGIC, decodeHeader } from '@litestream-ts/core';

/**
 * The blob metadata key under which Litestream stores an LTX file's timestamp. Azure metadata
 * names must be C# identifiers, so it is `litestreamtimestamp`, not S3's `litestream-timestamp`
 * (which Azure refuses with 400 InvalidMetadata).
 */
export const TIMESTAMP_METADATA_KEY = 'litestreamtimestamp';

/** Go's RFC 3339 with nanoseconds in UTC, as Litestream writes it: trailing zero digits dropped. */
export function formatLtxTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp (any fraction, any offset) to the millisecond; undefined when malformed. */
export function parseLtxTimestamp(text: string): Date | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om] = m;
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.slice(0, 3).padEnd(3, '0')));
  if (sign !== undefined) time -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/**
 * Reads the first chunks of a source until the LTX header is in hand, so its timestamp can
 * go into the blob's metadata. Returns the timestamp (undefined for non-LTX bytes) and the
 * source again, whole.
 */
export async function peekLtxTimestamp(source: AsyncIterable<Uint8Array>): Promise<{ timestamp: Date | undefined; data: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  let rest: AsyncIterator<Uint8Array> | undefined = iterator;
  while (length < HEADER_SIZE) {
    const next = await iterator.next();
    if (next.done) {
      rest = undefined;
      break;
    }
    head.push(next.value);
    length += next.value.byteLength;
  }
  return { timestamp: headerTimestamp(Buffer.concat(head)), data: replay(head, rest) };
}

function headerTimestamp(bytes: Buffer): Date | undefined {
  if (bytes.byteLength < HEADER_SIZE || bytes.toString('latin1', 0, 4) !== LTX_MAGIC) return undefined;
  try {
    return new Date(decodeHeader(bytes.subarray(0, HEADER_SIZE)).timestamp);
  } catch {
    return undefined;
  }
}

async function* replay(head: readonly Uint8Array[], rest: AsyncIterator<Uint8Array> | undefined): AsyncGenerator<Uint8Array> {
  yield* head;
  if (rest === undefined) return;
  try {
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}
