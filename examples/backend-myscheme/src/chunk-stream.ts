import { Readable } from 'node:stream';
import type Database from 'better-sqlite3';

/**
 * Streams bytes `start`..`end` of an upload, one stored chunk per read: the store serves the
 * range itself (only the chunks it covers are fetched) and nothing is held beyond one chunk.
 * Each fetch is its own query, so reads never keep the store locked between chunks; a file
 * replaced or deleted under a running read makes the stream fail instead of mixing contents.
 */
export function chunkStream(db: Database.Database, upload: number, start: number, end: number, location: string): Readable {
  // The chunk holding a byte: the last one starting at or before it.
  const chunkAt = db.prepare<[number, number], { offset: number; data: Buffer }>(
    'SELECT offset, data FROM chunks WHERE upload = ? AND offset <= ? ORDER BY offset DESC LIMIT 1',
  );
  let position = start;
  return new Readable({
    read() {
      if (position >= end) {
        this.push(null);
        return;
      }
      let chunk: { offset: number; data: Buffer } | undefined;
      try {
        chunk = chunkAt.get(upload, position);
      } catch (error) {
        this.destroy(error as Error);
        return;
      }
      const from = chunk === undefined ? -1 : position - chunk.offset;
      if (chunk === undefined || from >= chunk.data.byteLength) {
        this.destroy(new Error(`${location}: the file was replaced or deleted while it was read`));
        return;
      }
      const piece = chunk.data.subarray(from, Math.min(chunk.data.byteLength, end - chunk.offset));
      position += piece.byteLength;
      this.push(piece);
    },
  });
}
