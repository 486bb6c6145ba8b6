import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLtxTimestamp, parseLtxTimestamp, peekLtxTimestamp } from './ltx-timestamp.ts';
import { encodeLtxFile, readAll } from './test-support/ltx-files.ts';

describe('litestream-timestamp metadata', () => {
  it("formats like Go's RFC 3339 with nanoseconds: significant fraction digits only, none when zero", () => {
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.123Z'))).toBe('2024-05-06T07:08:09.123Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.120Z'))).toBe('2024-05-06T07:08:09.12Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.100Z'))).toBe('2024-05-06T07:08:09.1Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.000Z'))).toBe('2024-05-06T07:08:09Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.007Z'))).toBe('2024-05-06T07:08:09.007Z');
  });

  it('parses what Litestream writes, nanoseconds and offsets included, to the millisecond', () => {
    expect(parseLtxTimestamp('2024-05-06T07:08:09.12Z')?.toISOString()).toBe('2024-05-06T07:08:09.120Z');
    expect(parseLtxTimestamp('2024-05-06T07:08:09Z')?.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    expect(parseLtxTimestamp('2024-05-06T07:08:09.123456789Z')?.toISOString()).toBe('2024-05-06T07:08:09.123Z');
    expect(parseLtxTimestamp('2024-05-06T09:08:09.5+02:00')?.toISOString()).toBe('2024-05-06T07:08:09.500Z');
    expect(parseLtxTimestamp('2024-05-06T02:08:09-05:00')?.toISOString()).toBe('2024-05-06T07:08:09.000Z');
  });

  it('round-trips every millisecond value', () => {
    for (let ms = 0; ms < 1000; ms++) {
      const date = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, ms));
      expect(parseLtxTimestamp(formatLtxTimestamp(date))?.getTime()).toBe(date.getTime());
    }
  });

  it('returns undefined for anything else', () => {
    for (const text of ['', 'yesterday', '2024-05-06', '2024-05-06 07:08:09', '1714979289123']) expect(parseLtxTimestamp(text)).toBeUndefined();
  });
});

describe('peekLtxTimestamp', () => {
  it('reads the timestamp of an LTX header split over tiny chunks and replays every byte', async () => {
    const timestamp = new Date('2023-03-04T05:06:07.089Z');
    const file = await encodeLtxFile({ minTXID: 1, maxTXID: 2, pageCount: 2, timestamp });
    const chunks = Array.from({ length: Math.ceil(file.byteLength / 7) }, (_, i) => file.subarray(i * 7, (i + 1) * 7));
    const peeked = await peekLtxTimestamp(Readable.from(chunks, { objectMode: false }));
    expect(peeked.timestamp?.toISOString()).toBe(timestamp.toISOString());
    expect((await readAll(peeked.data)).equals(file)).toBe(true);
  });

  it('finds no timestamp in bytes that are not an LTX file, or too short, and still replays them', async () => {
    for (const bytes of [Buffer.alloc(500, 7), Buffer.from('LTX1'), Buffer.alloc(0)]) {
      const peeked = await peekLtxTimestamp(Readable.from([bytes], { objectMode: false }));
      expect(peeked.timestamp).toBeUndefined();
      expect((await readAll(peeked.data)).equals(bytes)).toBe(true);
    }
  });
});
