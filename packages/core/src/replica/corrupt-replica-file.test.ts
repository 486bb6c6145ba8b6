import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactLevel } from '../compaction/compact-level.ts';
import { buildDatabaseHistory, type DatabaseHistory } from '../compaction/test-support/database-history.ts';
import { minute, range, unchainedLevelZeroFile, writeLevelZero } from '../compaction/test-support/ltx-fixtures.ts';
import { writeReplicaSnapshot } from '../engine/replica-snapshot.ts';
import { chainBreak, confirmCorruption, CorruptReplicaFileError, verifyReplicaFile } from './corrupt-replica-file.ts';
import type { LtxFileRef } from './replica-client.ts';

let work: string;
let history: DatabaseHistory;
let cases = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'corrupt-replica-'));
  history = await buildDatabaseHistory(work, 6);
});
afterAll(() => rm(work, { recursive: true, force: true }));

/** A replica holding the level-0 files of TXIDs 1..6. */
async function replica<T extends FileReplicaClient>(make: (dir: string) => T = (d) => new FileReplicaClient(d) as T): Promise<T> {
  const client = make(join(work, `replica-${++cases}`));
  await writeLevelZero(client, history, range(1, 6));
  return client;
}

async function flipByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes[bytes.byteLength >> 1]! ^= 0x5a;
  await writeFile(path, bytes);
}

const ref = (txid: number): LtxFileRef => ({ level: 0, minTXID: txid, maxTXID: txid });

describe('corrupt replica files', () => {
  it('compaction rejects with CorruptReplicaFileError naming the damaged input: level, TXIDs, path and the failed check', async () => {
    const client = await replica();
    await flipByte(client.ltxPath(ref(4)));
    const err = await compactLevel(client, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    const damage = err as CorruptReplicaFileError;
    expect(damage.ref).toEqual(ref(4));
    expect(damage.location).toBe(client.ltxPath(ref(4)));
    expect(damage.check).toMatch(/checksum|structure/);
    expect(damage.message).toContain(`replica file ${client.ltxPath(ref(4))} (level 0, TXIDs 0000000000000004-0000000000000004) is corrupt`);
    // A second, independent read finds the same damage.
    expect((await confirmCorruption(client, damage))?.ref).toEqual(ref(4));
  });

  it('the replica snapshot rejects the same way', async () => {
    const client = await replica();
    await flipByte(client.ltxPath(ref(2)));
    const err = await writeReplicaSnapshot(client).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    expect((err as CorruptReplicaFileError).ref).toEqual(ref(2));
  });

  it('a file that does not continue from the one before is a broken chain, named with the file before', async () => {
    const client = await replica();
    await client.writeLtxFile(ref(5), await unchainedLevelZeroFile(history, 5, 1, minute(5)), { timestamp: minute(5) });
    const err = await compactLevel(client, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    expect(err).toMatchObject({ ref: ref(5), after: ref(4), check: 'pre-apply checksum' });
    // The file itself verifies; the chain check confirms it with two small reads.
    await verifyReplicaFile(client, ref(5));
    expect(await confirmCorruption(client, err as CorruptReplicaFileError)).toMatchObject({ ref: ref(5), after: ref(4) });
    expect(await chainBreak(client, ref(3), ref(4))).toBeUndefined();
  });

  it('a body damaged in transit once is not confirmed: the second read verifies', async () => {
    // (A body cut short is no longer an error at all: compaction resumes it with a ranged read.)
    class CutOnceClient extends FileReplicaClient {
      cut = true;
      protected override async _openLtxFile(r: LtxFileRef, range: { offset: number; size: number | undefined }): Promise<Readable> {
        const stream = await super._openLtxFile(r, range);
        if (!this.cut || r.minTXID !== 3) return stream;
        this.cut = false;
        const parts: Buffer[] = [];
        for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
        const bytes = Buffer.concat(parts);
        bytes[bytes.byteLength - 20]! ^= 0xff;
        return Readable.from([bytes]);
      }
    }
    const client = await replica((d) => new CutOnceClient(d));
    const err = await compactLevel(client, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    expect((err as CorruptReplicaFileError).ref).toEqual(ref(3));
    expect(await confirmCorruption(client, err as CorruptReplicaFileError)).toBeUndefined();
  });

  it('a file deleted since it was found is not confirmed', async () => {
    const client = await replica();
    await flipByte(client.ltxPath(ref(6)));
    const err = (await verifyReplicaFile(client, ref(6)).catch((e: unknown) => e)) as CorruptReplicaFileError;
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    await client.deleteLtxFiles([ref(6)]);
    expect(await confirmCorruption(client, err)).toBeUndefined();
  });
});
