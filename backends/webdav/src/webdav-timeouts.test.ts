import { readdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, level0 } from './test-support/replica-io.ts';
import { clientFor, webdavForFile, withWebdav } from './test-support/webdav-fixture.ts';
import { expectEachTimesOut, timedFailure } from '../../../packages/core/src/test-support/timed-failure.ts';

const REQUEST_TIMEOUT = 1000;

withWebdav(await webdavForFile(), 'WebdavReplicaClient timeouts', (dav) => {
  let frozen = false;
  const silent: Server[] = [];
  const held: Socket[] = [];
  const thaw = () => {
    if (frozen) process.kill(dav.pid, 'SIGCONT');
    frozen = false;
  };
  afterEach(async () => {
    thaw();
    for (const socket of held.splice(0)) socket.destroy();
    await Promise.all(silent.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  describe('WebdavReplicaClient against a server that stops answering', () => {
    it('fails every kind of call with StorageTimeoutError within the request timeout, then works again once the server answers', async () => {
      const client = clientFor(dav, { requestTimeout: REQUEST_TIMEOUT, connectTimeout: REQUEST_TIMEOUT });
      await client.writeLtxFile(level0(1), Buffer.from('before the stall'));

      // SIGSTOP freezes rclone the way a hung server does: the kernel still accepts, nothing answers.
      process.kill(dav.pid, 'SIGSTOP');
      frozen = true;
      await expectEachTimesOut(
        [
          ['write', () => client.writeLtxFile(level0(2), Buffer.from('during the stall'))],
          ['list', () => collect(client.listLtxFiles(0))],
          ['read', async () => collect(await client.openLtxFile(level0(1)))],
          ['delete', () => client.deleteLtxFiles([level0(1)])],
          ['object read', () => client.readObject('lock.json')],
          ['object write', () => client.writeObject('lock.json', Buffer.from('x'))],
        ],
        REQUEST_TIMEOUT,
        'a frozen WebDAV server',
      );

      thaw();
      await client.writeLtxFile(level0(3), Buffer.from('after the stall'));
      expect(Buffer.concat(await collect(await client.openLtxFile(level0(3)))).toString()).toBe('after the stall');
      const listedAfter = await collect(client.listLtxFiles(0));
      const onDisk = readdirSync(join(dav.rootDir, client.layout.path, 'ltx/0'));
      expect(listedAfter.map((f) => f.minTXID), `listed ${JSON.stringify(listedAfter)}; on disk ${onDisk.join(', ')}`).toContain(3);
      await client.close();
    }, 60_000);

    it('gives up on a server that accepts TCP but never answers HTTP after the request timeout', async () => {
      const server = createServer((socket) => held.push(socket));
      silent.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as { port: number }).port;
      const client = clientFor(dav, { url: `http://127.0.0.1:${port}`, requestTimeout: REQUEST_TIMEOUT });
      const { error, took } = await timedFailure(() => collect(client.listLtxFiles(0)));
      expect(error.message).toMatch(/made no progress for 1s \(request-timeout\)/);
      expect(took).toBeLessThan(REQUEST_TIMEOUT + 3000);
      await client.close();
    }, 30_000);

    it('names the refused connection when nothing listens', async () => {
      const client = clientFor(dav, { url: 'http://127.0.0.1:9', requestTimeout: REQUEST_TIMEOUT });
      const { error } = await timedFailure(() => collect(client.listLtxFiles(0)));
      expect(error.message).toMatch(/ECONNREFUSED/);
      await client.close();
    });
  });
});
