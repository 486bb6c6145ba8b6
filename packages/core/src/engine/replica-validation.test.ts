import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDatabaseHistory, type DatabaseHistory } from '../compaction/test-support/database-history.ts';
import { minute, range, unchainedLevelZeroFile, writeLevelZero } from '../compaction/test-support/ltx-fixtures.ts';
import { CorruptReplicaFileError } from '../replica/corrupt-replica-file.ts';
import type { LtxFileRef } from '../replica/replica-client.ts';
import { ReplicaValidator } from './replica-validation.ts';

let work: string;
let history: DatabaseHistory;
let cases = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'replica-validation-'));
  history = await buildDatabaseHistory(work, 8);
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function replica(txids: number[]): Promise<FileReplicaClient> {
  const client = new FileReplicaClient(join(work, `replica-${++cases}`));
  await writeLevelZero(client, history, txids);
  return client;
}

const ref = (txid: number): LtxFileRef => ({ level: 0, minTXID: txid, maxTXID: txid });

describe('ReplicaValidator', () => {
  it('reads each file of the restore plan once: a later run reads only what is new', async () => {
    const client = await replica(range(1, 5));
    const validator = new ReplicaValidator(client);
    expect(await validator.validate()).toMatchObject({ checked: 5, remaining: 0 });
    expect(await validator.validate()).toMatchObject({ checked: 0, bytes: 0, remaining: 0 });
    await writeLevelZero(client, history, [6, 7]);
    expect(await validator.validate()).toMatchObject({ checked: 2, remaining: 0 });
  });

  it('stays within its byte budget, reading at least one file a run, and picks up where it stopped', async () => {
    const client = await replica(range(1, 4));
    const validator = new ReplicaValidator(client, { maxBytes: 1 });
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await validator.validate());
    expect(runs.map((r) => [r.checked, r.remaining])).toEqual([
      [1, 3],
      [1, 2],
      [1, 1],
      [1, 0],
      [0, 0],
    ]);
  });

  it('names a file whose bytes were damaged after upload', async () => {
    const client = await replica(range(1, 5));
    const validator = new ReplicaValidator(client);
    const path = client.ltxPath(ref(3));
    const bytes = await readFile(path);
    bytes[bytes.byteLength >> 1]! ^= 0x5a;
    await writeFile(path, bytes);
    const err = await validator.validate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    expect(err).toMatchObject({ ref: ref(3), location: path });
  });

  it('names a file that does not continue from the one before, as a restore would find it', async () => {
    const client = await replica(range(1, 3));
    // A whole, valid file for TXID 4 that claims to follow TXID 2's state.
    await client.writeLtxFile(ref(4), await unchainedLevelZeroFile(history, 4, 2, minute(4)), { timestamp: minute(4) });
    const err = await new ReplicaValidator(client).validate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptReplicaFileError);
    expect(err).toMatchObject({ ref: ref(4), after: ref(3), check: 'pre-apply checksum' });
  });
});
