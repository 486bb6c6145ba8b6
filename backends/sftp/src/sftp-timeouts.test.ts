import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { StorageTimeoutError, type LtxFileRef } from '@litestream-ts/core';
import { clientFor, sftpForFile } from './test-support/sftp-fixture.ts';
import { timedFailure } from '../../../packages/core/src/test-support/timed-failure.ts';
import { collect } from '../../../packages/core/src/test-support/streams.ts';

const { service, skip } = await sftpForFile();

const REQUEST_TIMEOUT = 1000;
const ref = (minTXID: number): LtxFileRef => ({ level: 0, minTXID, maxTXID: minTXID });


/** Every process below `pid` (the sshd processes and sftp-server of each open connection). */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children: ps exits 1
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

if (service === undefined) {
  describe.skip(`SftpReplicaClient timeouts (skipped: ${skip})`, () => {
    it('needs sshd', () => {});
  });
} else {
  const sshd = service;
  let frozen: number[] = [];
  const silent: Server[] = [];
  const held: Socket[] = [];
  afterEach(async () => {
    for (const pid of frozen.splice(0)) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    for (const socket of held.splice(0)) socket.destroy();
    await Promise.all(silent.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  describe('SftpReplicaClient against a server that stops answering', () => {
    it('fails a call on a frozen connection with StorageTimeoutError within the request timeout, and the next call starts a new connection', async () => {
      const client = clientFor(sshd, { requestTimeout: REQUEST_TIMEOUT });
      await client.writeLtxFile(ref(1), Buffer.from('before the stall'));
      // Freeze the processes serving our connection; the listener still accepts new ones.
      frozen = descendants(sshd.pid);
      expect(frozen.length).toBeGreaterThan(0);
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');

      const { error, took } = await timedFailure(() => collect(client.listLtxFiles(0)));
      expect(error).toBeInstanceOf(StorageTimeoutError);
      expect(took).toBeGreaterThanOrEqual(REQUEST_TIMEOUT - 50);
      expect(took).toBeLessThan(REQUEST_TIMEOUT + 3000);

      // The stalled connection was dropped: this one is new, and the server answers it.
      await client.writeLtxFile(ref(2), Buffer.from('after the stall'));
      expect((await collect(client.listLtxFiles(0))).map((f) => f.minTXID)).toEqual([1, 2]);
      await client.close();
    }, 60_000);

    it('gives up on a server that accepts TCP but never says SSH after connect-timeout', async () => {
      const server = createServer((socket) => held.push(socket));
      silent.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const client = clientFor(sshd, { port, connectTimeout: 500, requestTimeout: 10_000 });
      const { error, took } = await timedFailure(() => collect(client.listLtxFiles(0)));
      expect(error.message).toMatch(/no SSH handshake within 500 ms \(connect-timeout\)/);
      expect(took).toBeLessThan(3000);
      await client.close();
    }, 30_000);
  });
}
