import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HEADER_SIZE, TRAILER_SIZE } from '../ltx/constants.ts';
import { decodeHeader, type LtxHeader } from '../ltx/header.ts';
import { formatLtxFilename, parseLtxFilename, type TXID } from '../ltx/txid.ts';
import type { ByteSink } from '../io/chunk-writer.ts';
import { syncDirectory } from '../io/durable.ts';

/** An L0 file staged in the database's meta directory. */
export interface LocalLtxFile {
  readonly minTXID: TXID;
  readonly maxTXID: TXID;
  readonly path: string;
}

/**
 * The local staging area `<meta>/ltx/0/`: L0 files written by syncs, waiting to be shipped
 * to replicas and kept for `l0-retention` after that. Files appear by rename only.
 */
export class LocalLtxFiles {
  readonly dir: string;

  constructor(metaPath: string) {
    this.dir = join(metaPath, 'ltx', '0');
  }

  pathOf(minTXID: TXID, maxTXID: TXID): string {
    return join(this.dir, formatLtxFilename(minTXID, maxTXID));
  }

  /**
   * Staged files in the order they were made: by max TXID. (A full image written after
   * incrementals is a snapshot named 1-<max>, so sorting by min TXID would misplace it.)
   */
  async list(): Promise<LocalLtxFile[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((name) => ({ name, range: parseLtxFilename(name) }))
      .filter((e): e is { name: string; range: { minTXID: number; maxTXID: number } } => e.range !== undefined)
      .map((e) => ({ ...e.range, path: join(this.dir, e.name) }))
      .sort((a, b) => a.maxTXID - b.maxTXID || b.minTXID - a.minTXID);
  }

  /** Header and post-apply checksum of a staged file, read from its two ends. */
  async readEnds(file: LocalLtxFile): Promise<{ header: LtxHeader; postApplyChecksum: bigint; size: number }> {
    const fh = await open(file.path, 'r');
    try {
      const { size } = await fh.stat();
      const head = Buffer.alloc(HEADER_SIZE);
      await fh.read(head, 0, HEADER_SIZE, 0);
      const tail = Buffer.alloc(TRAILER_SIZE);
      await fh.read(tail, 0, TRAILER_SIZE, size - TRAILER_SIZE);
      return { header: decodeHeader(head, file.path), postApplyChecksum: tail.readBigUInt64BE(0), size };
    } finally {
      await fh.close();
    }
  }

  /** Streams a staged file. */
  open(file: LocalLtxFile): AsyncIterable<Uint8Array> {
    return createReadStream(file.path, { highWaterMark: 1 << 20 });
  }

  /**
   * Writes a new file through a temporary name, fsyncs it and its directory, then renames,
   * so a crash leaves either the whole file or none.
   */
  async write<T>(minTXID: TXID, maxTXID: TXID, produce: (sink: ByteSink) => Promise<T>): Promise<T> {
    const path = this.pathOf(minTXID, maxTXID);
    await mkdir(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    const fh = await open(temp, 'w');
    try {
      let offset = 0;
      const result = await produce(async (chunk) => {
        await fh.write(chunk, 0, chunk.byteLength, offset);
        offset += chunk.byteLength;
      });
      await fh.sync();
      await fh.close();
      await rename(temp, path);
      await syncDirectory(this.dir);
      return result;
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(temp, { force: true });
      throw err;
    }
  }

  async remove(files: readonly LocalLtxFile[]): Promise<void> {
    for (const f of files) await rm(f.path, { force: true });
  }

  /** Deletes temporary files a crash left behind. */
  async removeTemporaryFiles(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const name of names) if (name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
  }

  /** Removes every staged file (for a reset). */
  async clear(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
