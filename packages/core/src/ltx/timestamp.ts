import { HEADER_SIZE, LTX_MAGIC } from './constants.ts';
import { decodeHeader } from './header.ts';

/**
 * Formats a timestamp as Litestream writes it (Go's RFC 3339 with nanoseconds, UTC): the
 * fraction keeps only significant digits and disappears when zero, e.g.
 * `2024-05-06T07:08:09.12Z`, `2024-05-06T07:08:09Z`.
 */
export function formatLtxTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d*?)0*Z$/, (_, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`));
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp (any fraction length, any offset) to the millisecond; undefined if malformed. */
export function parseLtxTimestamp(text: string): Date | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', sign, oh, om] = m;
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'));
  let time = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  if (sign !== undefined) time -= (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000;
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/**
 * Reads the first bytes of a source, so the LTX header's timestamp can go into the upload's
 * metadata when the caller did not pass one. Returns the timestamp (undefined when the bytes
 * are not an LTX header) and the source again, whole.
 */
export async function peekLtxTimestamp(
  source: AsyncIterable<Uint8Array>,
): Promise<{ timestamp: Date | undefined; data: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let length = 0;
  let done = false;
  while (length < HEADER_SIZE) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    length += next.value.byteLength;
  }
  return { timestamp: headerTimestamp(Buffer.concat(head)), data: replay(head, done ? undefined : iterator) };
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
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}
