import { describe, expect, it } from 'vitest';
import { formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';

describe('litestreamtimestamp metadata', () => {
  it('formats like Go RFC3339Nano and parses Go-written values', () => {
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.120Z'))).toBe('2024-05-06T07:08:09.12Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.000Z'))).toBe('2024-05-06T07:08:09Z');
    expect(parseLtxTimestamp('2024-05-06T07:08:09.123456789Z')?.toISOString()).toBe('2024-05-06T07:08:09.123Z');
    expect(parseLtxTimestamp('2024-05-06T09:08:09+02:00')?.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    expect(parseLtxTimestamp('yesterday')).toBeUndefined();
  });
});
