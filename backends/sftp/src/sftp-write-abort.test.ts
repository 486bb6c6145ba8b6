import { readdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { LtxFileRef } from '@litestream-ts/core';
import type { SftpReplicaClient } from './sftp-replica-client.ts';
import { SftpOps } from './sftp-session.ts';
import { clientFor, sftpForFile } from './test-support/sftp-fixture.ts';

const { service, skip } = await sftpForFile();

const FILE: LtxFileRef = { level: 0, minTXID: 4, maxTXID: 4 };

/** Every promise the client's connection ran, so a test can wait until the backend is really done. */
function trackOperations(client: SftpReplicaClient): Promise<unknown>[] {
  const operations: Promise<unknown>[] = [];
  const connection = client['connection'];
  const run = connection.run.bind(connection);
  connection.run = ((operation: (ops: SftpOps) => Promise<unknown>, idempotent?: boolean, signal?: AbortSignal) =>
    run((ops) => {
      const running = operation(ops);
      operations.push(running);
      return running;
    }, idempotent, signal)) as typeof connection.run;
  return operations;
}

if (service === undefined) {
  describe.skip(`SftpReplicaClient aborted writes (skipped: ${skip})`, () => {
    it('needs sshd', () => {});
  });
} else {
  const sshd = service;
  describe('SftpReplicaClient aborted writes', () => {
    // The whole source was sent, so nothing stopped the upload: the backend used to go on to
    // close and rename the temp file, publishing the file after the call had rejected.
    it.each(['fstat', 'close'] as const)('publishes nothing when the call is abandoned after the data was sent (at %s)', async (step) => {
      const client = clientFor(sshd);
      const operations = trackOperations(client);
      const ops = SftpOps.prototype;
      const original = ops[step] as (this: SftpOps, handle: Buffer) => Promise<unknown>;
      const controller = new AbortController();
      const reason = new Error(`abandoned at ${step}`);
      try {
        await client.writeLtxFile(FILE, Buffer.from('previous'));
        ops[step] = function (this: SftpOps, handle: Buffer) {
          if (!controller.signal.aborted) controller.abort(reason);
          return original.call(this, handle);
        } as never;
        await expect(client.writeLtxFile(FILE, Buffer.alloc(100_000, 1), { signal: controller.signal })).rejects.toBe(reason);
        ops[step] = original as never;
        // Wait until the backend itself is done with the abandoned write, however it ended.
        await Promise.allSettled(operations);
        const stored: Buffer[] = [];
        for await (const chunk of await client.openLtxFile(FILE)) stored.push(chunk as Buffer);
        expect(Buffer.concat(stored).toString()).toBe('previous');
        // No temp file is left beside it either.
        expect(await readdir(client.levelPath(0))).toEqual(['0000000000000004-0000000000000004.ltx']);
      } finally {
        ops[step] = original as never;
        await client.deleteAll();
        await client.close();
      }
    });

    it.each([{ ifNoneMatch: '*' } as const, undefined])('writes no small object when the call is abandoned after staging it (condition %o)', async (condition) => {
      const client = clientFor(sshd);
      const operations = trackOperations(client);
      const ops = SftpOps.prototype;
      const original = ops.fstat;
      const controller = new AbortController();
      const reason = new Error('abandoned after staging');
      try {
        ops.fstat = function (this: SftpOps, handle: Buffer) {
          if (!controller.signal.aborted) controller.abort(reason);
          return original.call(this, handle);
        };
        await expect(client.writeObject('lease.json', Buffer.from('{"owner":1}'), condition, { signal: controller.signal })).rejects.toBe(reason);
        ops.fstat = original;
        await Promise.allSettled(operations);
        expect(await client.readObject('lease.json')).toBeUndefined();
        expect((await readdir(client.root)).filter((name) => !name.startsWith('ltx'))).toEqual([]);
      } finally {
        ops.fstat = original;
        await client.deleteAll();
        await client.close();
      }
    });
  });
}
