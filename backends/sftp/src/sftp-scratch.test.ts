import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { BackendRegistry } from '@litestream-ts/core';
import { childLocation, openScratchClient, removeScratch, scratchLocation, uniqueScratchPrefix } from '@litestream-ts/core/probes';
import { sftpBackend } from './sftp-backend.ts';
import { sftpForFile } from './test-support/sftp-fixture.ts';

const { service, skip } = await sftpForFile();

if (service === undefined) {
  describe.skip(`sftp scratch prefix removal (skipped: ${skip})`, () => {
    it('needs sshd', () => {});
  });
} else {
  const sshd = service;
  describe('sftp scratch prefix removal', () => {
    const registry = new BackendRegistry().register(sftpBackend);
    const url = `sftp://${sshd.username}:${encodeURIComponent(sshd.password)}@127.0.0.1:${sshd.port}${sshd.rootDir}`;

    // sftp's deleteAll removes only its own layout (ltx/ and objects beside it), so what a
    // suite case failed to clean below `suite/case-N` stayed while the run said `removed`.
    it('removes what nested locations left below the prefix', async () => {
      const prefix = uniqueScratchPrefix('lts-test');
      const root = scratchLocation(registry, url, prefix);
      for (const name of ['suite/case-3', 'suite/case-69', 'probes']) {
        const client = await openScratchClient(registry, childLocation(registry, root, name));
        try {
          await client.writeLtxFile({ level: 0, minTXID: 2, maxTXID: 3 }, Buffer.from('left behind'));
          await client.writeObject('lease.json', Buffer.from('{}'));
        } finally {
          await client.close();
        }
      }
      expect(await removeScratch(registry, root)).toBe('removed');
      const entries = await readdir(`${sshd.rootDir}/${prefix}`, { recursive: true, withFileTypes: true });
      expect(entries.filter((e) => e.isFile()).map((e) => e.name)).toEqual([]);
    });

    it('says what is left when a file below the prefix belongs to no replica layout', async () => {
      const prefix = uniqueScratchPrefix('lts-test');
      const root = scratchLocation(registry, url, prefix);
      // An .ltx name outside ltx/ is neither an LTX file nor an object: no deleteAll removes it.
      await mkdir(`${sshd.rootDir}/${prefix}/suite/case-5`, { recursive: true });
      await writeFile(`${sshd.rootDir}/${prefix}/suite/case-5/stray.ltx`, 'x');
      expect(await removeScratch(registry, root)).toBe('not removed (1 file left below it, such as suite/case-5/stray.ltx)');
    });
  });
}
