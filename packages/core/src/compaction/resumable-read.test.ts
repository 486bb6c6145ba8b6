import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReplicaSnapshot } from '../engine/replica-snapshot.ts';
import { formatLtxFilename } from '../ltx/txid.ts';
import type { LtxFileRef } from '../replica/replica-client.ts';
import { compactLevel } from './compact-level.ts';
import { buildDatabaseHistory, type DatabaseHistory } from './test-support/database-history.ts';
import { range, writeLevelZero } from './test-support/ltx-fixtures.ts';
import { applyChain } from './test-support/restore-plan.ts';

// A store whose reads break midway, as an HTTP body cut short by the network does: the first
// `breaks` reads of each level-0 file stop after half of what was asked and then fail (or just
// end). Outputs (level 1, 9) read back by the test are not broken.
class LossyStore extends FileReplicaClient {
  breaks = 1;
  /** Fail with an error (`'error'`) or end early without one (`'short'`). */
  how: 'error' | 'short' = 'error';
  readonly opens: Array<{ file: string; offset: number }> = [];
  private readonly broken = new Map<string, number>();

  protected override async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
    const file = `${ref.level}/${formatLtxFilename(ref.minTXID, ref.maxTXID)}`;
    this.opens.push({ file, offset: range.offset });
    const source = await super._openLtxFile(ref, range);
    const times = this.broken.get(file) ?? 0;
    if (ref.level !== 0 || times >= this.breaks) return source;
    this.broken.set(file, times + 1);
    const chunks: Buffer[] = [];
    for await (const chunk of source) chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    const half = all.subarray(0, Math.floor(all.byteLength / 2));
    const how = this.how;
    return Readable.from(
      (async function* () {
        yield half;
        if (how === 'error') throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      })(),
      { objectMode: false },
    );
  }
}

let work: string;
let history: DatabaseHistory;
let caseNo = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'resumable-read-'));
  history = await buildDatabaseHistory(work, 10);
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function lossyReplica(txids: number[]): Promise<LossyStore> {
  const store = new LossyStore(join(work, `case-${++caseNo}`));
  await writeLevelZero(store, history, txids);
  store.opens.length = 0;
  return store;
}

describe('reads of replica files that break midway (a body cut short by the network)', () => {
  it('compaction resumes each broken read from the byte it reached and completes', async () => {
    const store = await lossyReplica(range(1, 8));
    const l1 = await compactLevel(store, 1);
    expect(l1).toMatchObject({ level: 1, minTXID: 1, maxTXID: 8 });
    expect((await applyChain(store, [l1!], join(work, `c${caseNo}.db`))).equals(history.state(8))).toBe(true);
    // Every file was opened twice: once from the start, once from where the first read broke.
    const l0 = store.opens.filter((o) => o.file.startsWith('0/'));
    expect(l0).toHaveLength(16);
    for (const txid of range(1, 8)) {
      const opens = l0.filter((o) => o.file === `0/${formatLtxFilename(txid, txid)}`);
      expect(opens[0]!.offset).toBe(0);
      expect(opens[1]!.offset).toBeGreaterThan(0);
    }
  });

  it('a read that ends early without an error is resumed too', async () => {
    const store = await lossyReplica(range(1, 5));
    store.how = 'short';
    const l1 = await compactLevel(store, 1);
    expect((await applyChain(store, [l1!], join(work, `c${caseNo}.db`))).equals(history.state(5))).toBe(true);
  });

  it('a level-9 snapshot resumes broken reads too', async () => {
    const store = await lossyReplica(range(1, 6));
    const snapshot = await writeReplicaSnapshot(store);
    expect(snapshot).toMatchObject({ level: 9, minTXID: 1, maxTXID: 6 });
    expect((await applyChain(store, [snapshot!], join(work, `c${caseNo}.db`))).equals(history.state(6))).toBe(true);
  });

  it('gives up after 4 attempts, naming the file and the cause, and stores nothing', async () => {
    const store = await lossyReplica(range(1, 4));
    store.breaks = Infinity;
    const failure = (await compactLevel(store, 1).catch((e: unknown) => e)) as Error;
    expect(failure.message).toMatch(/level 0 0000000000000001-0000000000000001\.ltx: read failed after 4 attempts: aborted/);
    expect(store.opens.filter((o) => o.file === `0/${formatLtxFilename(1, 1)}`)).toHaveLength(4);
    expect(await readdir(store.levelPath(1)).catch(() => [])).toEqual([]);
  });

  it('a file that is gone is not retried', async () => {
    const store = await lossyReplica(range(1, 4));
    store.breaks = 0;
    // Listed, then deleted before the compactor gets to it (as retention may).
    class Vanishing extends LossyStore {
      protected override async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
        if (ref.minTXID === 3) await unlink(this.ltxPath(ref)).catch(() => {});
        return super._openLtxFile(ref, range);
      }
    }
    const vanishing = new Vanishing(store.root);
    vanishing.breaks = 0;
    await expect(compactLevel(vanishing, 1)).rejects.toThrow(/not found/);
    expect(vanishing.opens.filter((o) => o.file === `0/${formatLtxFilename(3, 3)}`)).toHaveLength(1);
  });
});
