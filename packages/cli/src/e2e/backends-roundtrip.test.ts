import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, startGcs, startNatsServer, startS3, startSftp, startWebdav } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer } from '../../../../backends/abs/src/test-support/azurite-fixture.ts';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestreamAsync as litestream } from './cli-process.ts';

// `litestream replicate` then `litestream restore` through each backend's URL form, against
// the real services of @litestream-ts/testcontainers. A service that cannot start fails.
const dir = await mkdtemp(join(tmpdir(), 'lts-backends-'));
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop().catch(() => {})));
  await rm(dir, { recursive: true, force: true });
});
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

interface Target {
  readonly url: string;
  readonly env: Record<string, string>;
}

const targets: Record<string, () => Promise<Target>> = {
  s3: async () => {
    const s3 = await startS3();
    stops.push(() => s3.stop());
    await s3.createBucket('lts-cli');
    return {
      url: `s3://lts-cli/app?endpoint=${s3.endpoint}&force-path-style=true&region=${s3.region}`,
      env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
    };
  },
  abs: async () => {
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const container = await createContainer(azurite, 'cli');
    return { url: `abs://${azurite.accountName}@127.0.0.1:${azurite.port}/${container}/app`, env: { LITESTREAM_AZURE_ACCOUNT_KEY: azurite.accountKey } };
  },
  gs: async () => {
    const gcs = await startGcs();
    stops.push(() => gcs.stop());
    await gcs.createBucket('lts-cli');
    return { url: `gs://lts-cli/app?endpoint=${gcs.endpoint}`, env: {} };
  },
  sftp: async () => {
    const sftp = await startSftp();
    stops.push(() => sftp.stop());
    const password = encodeURIComponent(sftp.password);
    return { url: `sftp://${sftp.username}:${password}@127.0.0.1:${sftp.port}/~/replica`, env: {} };
  },
  // Alibaba Cloud OSS through the s3 backend's preset, at a local S3 server (endpoint override;
  // path-style, since a loopback address has no bucket subdomains).
  oss: async () => {
    const s3 = await startS3();
    stops.push(() => s3.stop());
    await s3.createBucket('lts-oss');
    return {
      url: `oss://lts-oss/app?endpoint=${s3.endpoint}&force-path-style=true`,
      env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
    };
  },
  webdav: async () => {
    const dav = await startWebdav();
    stops.push(() => dav.stop());
    return { url: `webdav://${dav.username}:${encodeURIComponent(dav.password)}@127.0.0.1:${dav.port}/backups/app`, env: {} };
  },
  nats: async () => {
    const nats = await startNatsServer();
    stops.push(() => nats.stop());
    return { url: `nats://127.0.0.1:${nats.port}/lts-cli`, env: {} };
  },
};

describe('replicate → restore through each backend (real bin, real services)', () => {
  for (const [name, start] of Object.entries(targets)) {
    it(`${name}://`, async () => {
      const target = await start();
      const db = join(dir, `${name}.db`);
      const app = new AppProcess(db);
      await app.insert(30, 2000);
      const first = await litestream(['replicate', '-once', db, target.url], { env: target.env });
      expect(first.status, first.stderr + first.stdout).toBe(0);
      await app.insert(10, 9000); // a second file on top of the snapshot
      const second = await litestream(['replicate', '-once', db, target.url], { env: target.env });
      expect(second.status, second.stderr + second.stdout).toBe(0);
      const out = join(dir, `${name}-restored.db`);
      const r = await litestream(['restore', '-o', out, '-integrity-check', 'quick', target.url], { env: target.env });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/from [2-9]\d* file\(s\)|from \d{2,} file\(s\)/);
      expect(await sha256(out)).toBe(await app.hash());
      await app.close();
    }, 120_000);
  }
});
