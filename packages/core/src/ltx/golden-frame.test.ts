import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotDatabaseFile } from '../sqlite/snapshot.ts';
import { goldenSet, itAppliesReferenceChain } from '../test-support/golden-apply.ts';
import { frameDir, goldenDir } from '../test-support/paths.ts';
import { MemorySink, chunked } from '../test-support/streams.ts';
import { compactLtx } from './compactor.ts';
import { LtxDecoder, verifyLtx, type LtxPage } from './decoder.ts';

// The five checks of testdata/ltx-v3-frame/README.md: the reference files whose pages are LZ4
// frames (Litestream v0.5.0 – v0.5.15). Our encoder and compactor write LZ4 block pages, so
// checks 4 and 5 compare decoded pages, commit and checksums.
const work = await mkdtemp(join(tmpdir(), 'ltx-golden-frame-'));
afterAll(() => rm(work, { recursive: true, force: true }));

const dir = join(frameDir(), 'set-4096');
const { ltx, compacted, state } = goldenSet(dir);
const blockTwin = (path: string) => join(goldenDir(), 'set-4096', 'ltx', path.slice(path.lastIndexOf('/') + 1));

/** Every page and the trailer of a file, with how its pages are stored. */
async function decodeFile(source: AsyncIterable<Uint8Array>, file?: string) {
  const decoder = new LtxDecoder(source, { file, collectIndex: true });
  await decoder.readHeader();
  const pages: LtxPage[] = [];
  for await (const page of decoder.pages()) pages.push(page);
  return { pages, ...(await decoder.finish()) };
}

describe('reference vectors with LZ4 frame pages (set-4096)', () => {
  it('1. decodes and verifies every reference file, whatever the input chunking', async () => {
    for (const file of [ltx(1), ltx(2), ltx(3), ltx(4), compacted]) {
      const bytes = await readFile(file);
      const whole = await decodeFile(createReadStream(file), file);
      expect(whole.header.pageSize).toBe(4096);
      expect(whole.pageCount).toBeGreaterThan(0);
      expect(whole.pageEncoding).toBe('lz4-frame');
      expect(whole.pages.every((p) => p.encoding === 'lz4-frame')).toBe(true);
      // The page index sizes cover the page header and the whole LZ4 frame, frame by frame.
      expect(whole.pageIndex!.map((e) => [e.pgno, e.offset, e.size])).toEqual(whole.pages.map((p) => [p.pgno, p.frameOffset, p.frameSize]));
      for (const p of whole.pages) expect(bytes.readUInt32LE(p.frameOffset + 6)).toBe(0x184d2204);
      // Frames split across input chunks at every kind of place decode the same.
      for (const size of [1, 13, 777, 4096]) {
        const split = await decodeFile(chunked(bytes, size), file);
        expect(split.fileChecksum).toBe(whole.fileChecksum);
        expect(split.pages.map((p) => p.checksum)).toEqual(whole.pages.map((p) => p.checksum));
      }
      // The same pages and checksums as the block-page twin of the file.
      const twin = await decodeFile(createReadStream(blockTwin(file)));
      expect(twin.pageEncoding).toBe('lz4-block');
      expect(whole.postApplyChecksum).toBe(twin.postApplyChecksum);
      expect(whole.pagesChecksum).toBe(twin.pagesChecksum);
      expect(whole.pages.map((p) => p.pgno)).toEqual(twin.pages.map((p) => p.pgno));
      whole.pages.forEach((page, i) => expect(page.data.equals(twin.pages[i]!.data)).toBe(true));
    }
  });

  itAppliesReferenceChain(dir, work, '');

  it("4. our encoder's snapshot of state1.db has the reference snapshot's pages, commit and post-apply checksum (in block pages)", async () => {
    const reference = await decodeFile(createReadStream(ltx(1)));
    const sink = new MemorySink();
    const result = await snapshotDatabaseFile(state(1), sink, { txid: 1, timestamp: reference.header.timestamp });
    const ours = await decodeFile(chunked(sink.bytes, 777));
    expect(ours.pageEncoding).toBe('lz4-block');
    expect(ours.header.commit).toBe(reference.header.commit);
    expect(ours.postApplyChecksum).toBe(reference.postApplyChecksum);
    expect(result.postApplyChecksum).toBe(reference.postApplyChecksum);
    expect(ours.pages.map((p) => p.pgno)).toEqual(reference.pages.map((p) => p.pgno));
    ours.pages.forEach((page, i) => expect(page.data.equals(reference.pages[i]!.data)).toBe(true));
  });

  it("5. our compactor's merge of the frame-page files 2..4 writes block pages with the reference compaction's pages, commit and checksums", async () => {
    const reference = await decodeFile(createReadStream(compacted));
    const sink = new MemorySink();
    await compactLtx(
      [2, 3, 4].map((n) => ({ source: createReadStream(ltx(n)), name: ltx(n) })),
      sink,
    );
    const ours = await decodeFile(chunked(sink.bytes, 4096));
    expect(ours.pageEncoding).toBe('lz4-block');
    expect(ours.header.commit).toBe(reference.header.commit);
    expect(ours.header.minTXID).toBe(2);
    expect(ours.header.maxTXID).toBe(4);
    expect(ours.header.preApplyChecksum).toBe(reference.header.preApplyChecksum);
    expect(ours.postApplyChecksum).toBe(reference.postApplyChecksum);
    expect(ours.pages.map((p) => p.pgno)).toEqual(reference.pages.map((p) => p.pgno));
    ours.pages.forEach((page, i) => expect(page.data.equals(reference.pages[i]!.data)).toBe(true));
  });

  it('compacts a frame-page file with block-page files (a replica upgraded in the middle) into block pages', async () => {
    const reference = await decodeFile(createReadStream(compacted));
    const sink = new MemorySink();
    await compactLtx(
      [
        { source: createReadStream(ltx(2)), name: ltx(2) },
        { source: createReadStream(blockTwin(ltx(3))), name: blockTwin(ltx(3)) },
        { source: createReadStream(ltx(4)), name: ltx(4) },
      ],
      sink,
    );
    const ours = await verifyLtx(chunked(sink.bytes, 4096));
    expect(ours.pageEncoding).toBe('lz4-block');
    expect(ours.postApplyChecksum).toBe(reference.postApplyChecksum);
    expect(ours.pageCount).toBe(reference.pageCount);
  });
});
