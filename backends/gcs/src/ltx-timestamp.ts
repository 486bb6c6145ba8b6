import { HEADER_SIZE, LTX_MAGIC, decodeHeader } from '@litestream-ts/core';

/** The custom metadata key under which Litestream stores an LTX file's timestamp. */
export const TIMESTAMP_METADATA_KEY = 'litestream-timestamp';

/**
 * Formats a timestamp as Litestream does (Go's RFC 3339 with nanoseconds, UTC): the fraction
 * keeps only significant digits and is left out when zero (`2024-05-06T07:08:09.12Z`).
 */
export function formatLtxTimestamp(date: Date): string {
  const iso = date.toISOString();
  const fraction = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp (any fraction length, any offset) to the millisecond; undefined if malformed. */
export function parseLtxTimestamp(text: string): Date | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const fraction = (m[7] ?? '').slice(0, 3).padEnd(3, '0');
  const offsetMinutes = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), Number(fraction)) - offsetMinutes * 60_000;
  return Number.isFinite(time) ? new Date(time) : undefined;
}

/**
 * Reads the first bytes of a source so the LTX header's timestamp can go into the upload's
 * metadata when the caller gave none. Returns the timestamp (undefined when the bytes are not
 * an LTX header) and the whole source again.
 */
export async function peekLtxTimestamp(source: AsyncIterable<Uint8Array>): Promise<{ timestamp: Date | undefined; data: AsyncIterable<Uint8Array> }> {
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
  const bytes = Buffer.concat(head);
  let timestamp: Date | undefined;
  if (bytes.byteLength >= HEADER_SIZE && bytes.subarray(0, 4).toString('latin1') === LTX_MAGIC) {
    try {
      timestamp = new Date(decodeHeader(bytes.subarray(0, HEADER_SIZE)).timestamp);
    } catch {
      timestamp = undefined; // not a valid header: store without the metadata
    }
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { timestamp, data: replay() };
}
