import { HEADER_SIZE, LTX_MAGIC, decodeHeader } from '@litestream-ts/core';

/** The object header Litestream's NATS client stores each LTX file's timestamp under. */
export const TIMESTAMP_HEADER = 'Litestream-Timestamp';

/** Go's RFC 3339 with nanoseconds, as Litestream writes it: trailing zeros of the fraction dropped. */
export function formatLtxTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses RFC 3339 (any fraction, any offset) to the millisecond; undefined when malformed. */
export function parseLtxTimestamp(text: string): Date | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om] = m;
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.slice(0, 3).padEnd(3, '0')));
  if (sign !== undefined) time += (sign === '-' ? 1 : -1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/**
 * Reads the first 100 bytes of a source so an upload without an explicit timestamp can still
 * carry the LTX header's. Returns undefined for bytes that are not an LTX header, and the
 * source again, whole.
 */
export async function peekLtxTimestamp(source: AsyncIterable<Uint8Array>): Promise<{ timestamp: Date | undefined; data: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  let finished = false;
  while (length < HEADER_SIZE) {
    const next = await iterator.next();
    if (next.done) {
      finished = true;
      break;
    }
    head.push(next.value);
    length += next.value.byteLength;
  }
  return { timestamp: headerTimestamp(Buffer.concat(head)), data: replay(head, finished ? undefined : iterator) };
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
