import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotDatabaseFile } from '../sqlite/snapshot.ts';
import { goldenSet, itAppliesReferenceChain } from '../test-support/golden-apply.ts';
import { goldenDir } from '../test-support/paths.ts';
import { MemorySink, chunked, decodeAll } from '../test-support/streams.ts';
import { compactLtx } from './compactor.ts';
import { verifyLtx } from './decoder.ts';

// The five checks listed in testdata/ltx-v3-golden/README.md, for each page size.
const work = await mkdtemp(join(tmpdir(), 'ltx-golden-'));
afterAll(() => rm(work, { recursive: true, force: true }));

for (const set of ['set-512', 'set-4096']) {
  describe(`reference vectors ${set}`, () => {
    const dir = join(goldenDir(), set);
    const { ltx, compacted, state } = goldenSet(dir);

    it('1. decodes and verifies every reference file', async () => {
      for (const file of [ltx(1), ltx(2), ltx(3), ltx(4), compacted]) {
        const result = await verifyLtx(createReadStream(file), { file });
        expect(result.header.pageSize).toBe(Number(set.slice(4)));
        expect(result.pageCount).toBeGreaterThan(0);
      }
    });

    itAppliesReferenceChain(dir, work, `${set}-`);

    it("4. our encoder's snapshot of state1.db has the reference snapshot's pages, commit and post-apply checksum", async () => {
      const reference = await decodeAll(ltx(1));
      const sink = new MemorySink();
      const result = await snapshotDatabaseFile(state(1), sink, { txid: 1, timestamp: reference.header.timestamp });
      const ours = await decodeAll(chunked(sink.bytes, 777));
      expect(ours.header.commit).toBe(reference.header.commit);
      expect(ours.postApplyChecksum).toBe(reference.postApplyChecksum);
      expect(result.postApplyChecksum).toBe(reference.postApplyChecksum);
      expect(ours.pages.map((p) => p.pgno)).toEqual(reference.pages.map((p) => p.pgno));
      ours.pages.forEach((page, i) => expect(page.data.equals(reference.pages[i]!.data)).toBe(true));
    });

    it("5. our compactor's merge of 2..4 has the reference compaction's pages, commit and checksums", async () => {
      const reference = await decodeAll(compacted);
      const sink = new MemorySink();
      await compactLtx(
        [2, 3, 4].map((n) => ({ source: createReadStream(ltx(n)), name: ltx(n) })),
        sink,
      );
      const ours = await decodeAll(chunked(sink.bytes, 4096));
      expect(ours.header.commit).toBe(reference.header.commit);
      expect(ours.header.minTXID).toBe(2);
      expect(ours.header.maxTXID).toBe(4);
      expect(ours.header.preApplyChecksum).toBe(reference.header.preApplyChecksum);
      expect(ours.postApplyChecksum).toBe(reference.postApplyChecksum);
      expect(ours.pages.map((p) => p.pgno)).toEqual(reference.pages.map((p) => p.pgno));
      ours.pages.forEach((page, i) => expect(page.data.equals(reference.pages[i]!.data)).toBe(true));
    });
  });
}
