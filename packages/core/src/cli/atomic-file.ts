import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { syncDirectory, syncFile } from '../io/durable.ts';

/**
 * Writes a file through a temporary name in the same directory, fsyncs it and renames it
 * into place, so an interrupted command never leaves a partial file under the real name.
 */
export async function writeFileAtomically<T>(path: string, produce: (sink: Writable) => Promise<T>): Promise<T> {
  const temp = tempPathFor(path);
  const stream = createWriteStream(temp, { highWaterMark: 1 << 20 });
  try {
    const result = await produce(stream);
    stream.end();
    await finished(stream);
    await syncFile(temp);
    await rename(temp, path);
    await syncDirectory(dirname(path));
    return result;
  } catch (err) {
    stream.destroy();
    await rm(temp, { force: true });
    throw err;
  }
}

/** A unique temporary path beside `path`. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}
