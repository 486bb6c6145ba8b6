import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { LtxApplier } from '../restore/ltx-applier.ts';
import { formatLtxFilename } from '../ltx/txid.ts';

/** The files of one reference set (testdata/ltx-v3-golden, testdata/ltx-v3-frame). */
export function goldenSet(dir: string) {
  return {
    ltx: (n: number) => join(dir, 'ltx', formatLtxFilename(n, n)),
    compacted: join(dir, 'ltx', `compacted-${formatLtxFilename(2, 4)}`),
    state: (n: number) => join(dir, `state${n}.db`),
  };
}

/**
 * Checks 2 and 3 of a reference set's README: applying the snapshot then each file gives each
 * state byte for byte (post-apply checksums matching), and the snapshot then the compacted file
 * gives state4. Outputs go to `work`, named with `prefix`.
 */
export function itAppliesReferenceChain(dir: string, work: string, prefix: string): void {
  const { ltx, compacted, state } = goldenSet(dir);

  it('2. applying the snapshot then 2..N gives stateN.db byte for byte, with matching post-apply checksums', async () => {
    const out = join(work, `${prefix}chain.db`);
    const applier = new LtxApplier(out);
    for (let n = 1; n <= 4; n++) {
      const result = await applier.apply(createReadStream(ltx(n)), ltx(n));
      expect(applier.databaseChecksum).toBe(result.postApplyChecksum);
      expect(applier.position.txid).toBe(n);
      await applier.close();
      expect(await readFile(out)).toEqual(await readFile(state(n)));
      await applier.openExisting(n);
    }
    await applier.close();
  });

  it('3. applying the snapshot then the compacted file gives state4.db', async () => {
    const out = join(work, `${prefix}compacted.db`);
    const applier = new LtxApplier(out);
    await applier.apply(createReadStream(ltx(1)), ltx(1));
    await applier.apply(createReadStream(compacted), compacted);
    await applier.close();
    expect(await readFile(out)).toEqual(await readFile(state(4)));
  });
}
