import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../ltx/errors.ts';
import type { StorageOperation } from './replica-client.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-observe-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('ReplicaClient.observe', () => {
  it('reports every storage operation with its bytes and outcome, on any backend', async () => {
    const seen: Array<[StorageOperation, number, boolean]> = [];
    const client = new FileReplicaClient(dir).observe((op, bytes, error) => seen.push([op, bytes, error]));
    const ref = { level: 0, minTXID: 1, maxTXID: 1 };
    await client.writeLtxFile(ref, Buffer.alloc(123, 1));
    for await (const _ of client.listLtxFiles(0));
    (await client.openLtxFile(ref)).destroy();
    await expect(client.openLtxFile({ ...ref, minTXID: 2, maxTXID: 2 })).rejects.toBeInstanceOf(NotFoundError);
    await client.writeObject('lock.json', Buffer.from('{}'), { ifNoneMatch: '*' });
    await expect(client.writeObject('lock.json', Buffer.from('{}'), { ifNoneMatch: '*' })).rejects.toThrow(/precondition failed/);
    await client.deleteLtxFiles([ref]);
    expect(seen).toEqual([
      ['PUT', 123, false],
      ['LIST', 0, false],
      ['GET', 0, false],
      ['GET', 0, true],
      ['PUT', 2, false],
      ['PUT', 0, false], // a lost precondition is an answer, not a failure
      ['DELETE', 0, false],
    ]);
  });
});
