import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

/** Files up to this size are staged in memory; larger ones in a temporary file. */
export const MEMORY_STAGING_LIMIT = 8 * 1024 * 1024;

/** An upload body of known length that can be sent again (after creating missing collections). */
export interface StagedBody {
  readonly size: number;
  /** A fresh body: the bytes, or a stream of the staged file. */
  open(): Uint8Array | Readable;
  /** Removes the temporary file, if any. */
  dispose(): Promise<void>;
}

/**
 * Reads a whole upload before it is sent, so the PUT carries a Content-Length: many WebDAV
 * servers (nginx and lighttpd front ends, FastCGI handlers) store nothing or refuse a chunked
 * body. Up to `memoryLimit` bytes stay in memory; beyond that they go to a file in the OS
 * temporary directory, removed by `dispose()` (also when the source fails).
 */
export async function stageBody(source: AsyncIterable<Uint8Array>, progress: () => void, memoryLimit = MEMORY_STAGING_LIMIT): Promise<StagedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let dir: string | undefined;
  let file: FileHandle | undefined;
  try {
    for await (const chunk of source) {
      progress();
      // The source may reuse its buffers once we ask for the next chunk: keep a copy.
      const copy = Buffer.from(chunk);
      size += copy.byteLength;
      if (file === undefined && size > memoryLimit) {
        dir = await mkdtemp(join(tmpdir(), 'litestream-webdav-'));
        file = await open(join(dir, 'upload'), 'w');
        for (const held of chunks.splice(0)) await file.write(held);
      }
      if (file !== undefined) await file.write(copy);
      else chunks.push(copy);
    }
    if (file === undefined) {
      const bytes = Buffer.concat(chunks);
      return { size, open: () => bytes, dispose: async () => {} };
    }
    await file.close();
    file = undefined;
    const path = join(dir!, 'upload');
    const staged = dir!;
    return { size, open: () => createReadStream(path), dispose: () => rm(staged, { recursive: true, force: true }) };
  } catch (error) {
    await file?.close().catch(() => {});
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
