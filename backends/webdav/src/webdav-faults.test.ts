import { afterAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../../testcontainers/src/fault-proxy.ts';
import { collect, level0 } from './test-support/replica-io.ts';
import { clientFor, webdavForFile, withWebdav } from './test-support/webdav-fixture.ts';

withWebdav(await webdavForFile(), 'WebdavReplicaClient under faults', (dav) => {
  describe('WebdavReplicaClient behind a proxy that resets connections and answers 503', () => {
    it('retries what failed without effect, so every call succeeds and every file is intact', async () => {
      const proxy = await startFaultProxy({ upstream: dav.url, rate: 0.3, kinds: ['reset', 'status-503'] });
      afterAll(() => proxy.close());
      const client = clientFor(dav, { url: proxy.url, requestTimeout: 10_000 });
      const payload = (n: number) => Buffer.alloc(20_000 + n, n);
      try {
        for (let n = 1; n <= 20; n++) await client.writeLtxFile(level0(n), payload(n));
        await client.writeObject('lock.json', Buffer.from('{"x":1}'));
        expect((await collect(client.listLtxFiles(0))).map((f) => [f.minTXID, f.size])).toEqual(Array.from({ length: 20 }, (_, i) => [i + 1, payload(i + 1).byteLength]));
        for (let n = 1; n <= 20; n++) expect(Buffer.concat(await collect(await client.openLtxFile(level0(n)))).equals(payload(n)), `file ${n}`).toBe(true);
        expect(new TextDecoder().decode((await client.readObject('lock.json'))?.data)).toBe('{"x":1}');
        await client.deleteLtxFiles(Array.from({ length: 10 }, (_, i) => level0(i + 1)));
        expect((await collect(client.listLtxFiles(0))).map((f) => f.minTXID)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
        const counts = proxy.counts();
        // The faults really happened (seed ${proxy.seed} replays them).
        expect(counts.reset, `seed ${proxy.seed}`).toBeGreaterThan(3);
        expect(counts['status-503'], `seed ${proxy.seed}`).toBeGreaterThan(3);
      } finally {
        await client.deleteAll().catch(() => {});
        await client.close();
      }
    }, 60_000);
  });
});
