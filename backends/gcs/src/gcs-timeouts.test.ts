import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LtxFileRef } from '@litestream-ts/core';
import { freePort } from '../../../testcontainers/src/ports.ts';
import { startGcsEmulator, type GcsEmulator } from '../../../testcontainers/src/gcs-emulator/server.ts';
import { GcsReplicaClient } from './gcs-replica-client.ts';
import { expectEachTimesOut } from '../../../packages/core/src/test-support/timed-failure.ts';
import { collect } from '../../../packages/core/src/test-support/streams.ts';

// Our GCS emulator runs inside this process, so it cannot be frozen with a signal. Instead the
// client's endpoint is first served by a TCP server that accepts and never answers (a hung
// server), then, on the same port, by the emulator (the server came back).

const REQUEST_TIMEOUT = 1000;
const ref = (minTXID: number): LtxFileRef => ({ level: 0, minTXID, maxTXID: minTXID });

let silent: Server | undefined;
let emulator: GcsEmulator | undefined;
const held: Socket[] = [];
afterEach(async () => {
  for (const socket of held.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  silent = undefined;
  await emulator?.stop();
  emulator = undefined;
});


describe('GcsReplicaClient against a store that does not answer', () => {
  it('fails every kind of call with StorageTimeoutError within the request timeout, then works once the server answers', async () => {
    const port = await freePort();
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent!.listen(port, '127.0.0.1', resolve));
    const client = new GcsReplicaClient({ bucket: 'timeouts', path: 'stall', endpoint: `http://127.0.0.1:${port}`, requestTimeout: REQUEST_TIMEOUT });

    const calls: Array<[string, () => Promise<unknown>]> = [
      ['write', () => client.writeLtxFile(ref(1), Buffer.alloc(1 << 20, 1))],
      ['list', () => collect(client.listLtxFiles(0))],
      ['read', async () => collect(await client.openLtxFile(ref(1)))],
      ['delete', () => client.deleteLtxFiles([ref(1)])],
      ['object read', () => client.readObject('lock.json')],
    ];
    await expectEachTimesOut(calls, REQUEST_TIMEOUT, 'a silent server');

    // The server is back on the same port: the same client works again.
    for (const socket of held.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => silent!.close(() => resolve()));
    silent = undefined;
    emulator = await startGcsEmulator({ port });
    emulator.createBucket('timeouts');
    await client.writeLtxFile(ref(1), Buffer.from('after the stall'));
    expect((await collect(client.listLtxFiles(0))).map((f) => f.minTXID)).toEqual([1]);
    expect(Buffer.concat(await collect(await client.openLtxFile(ref(1)))).toString()).toBe('after the stall');
    await client.close();
  }, 60_000);
});
