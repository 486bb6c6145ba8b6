import { absBackend } from '@litestream-ts/backend-abs';
import { fileBackend } from '@litestream-ts/backend-file';
import { gcsBackend } from '@litestream-ts/backend-gcs';
import { natsBackend } from '@litestream-ts/backend-nats';
import { s3Backend } from '@litestream-ts/backend-s3';
import { sftpBackend } from '@litestream-ts/backend-sftp';
import { webdavBackend } from '@litestream-ts/backend-webdav';
import type { BackendPlugin } from '@litestream-ts/core';
import { describe, expect, it } from 'vitest';
import { createBackendRegistry } from './backends.ts';

const SHIPPED: readonly BackendPlugin[] = [absBackend, fileBackend, gcsBackend, natsBackend, s3Backend, sftpBackend, webdavBackend];

describe('createBackendRegistry: every backend installed beside the CLI (here: the monorepo\'s), registered lazily', () => {
  it('knows each backend by the same facts as its plugin, before loading any', async () => {
    const registry = await createBackendRegistry({ env: {} });
    expect(registry.list().map((b) => b.type)).toEqual(['abs', 'file', 'gs', 'nats', 's3', 'sftp', 'webdav']);
    for (const plugin of SHIPPED) {
      const info = registry.forType(plugin.type);
      expect({ schemes: info.schemes, configKeys: info.configKeys, description: info.description }).toEqual({
        schemes: plugin.schemes,
        configKeys: plugin.configKeys,
        description: plugin.description,
      });
      expect(registry.isLoaded(plugin.type)).toBe(false);
    }
  });

  it("checks each scheme's URLs with the backend's own rules without loading it", async () => {
    const registry = await createBackendRegistry({ env: {} });
    const good = ['s3://bucket/db', 'oss://bucket/db', 'abs://account@container/db', 'gs://bucket/db', 'nats://localhost:4222/bucket', 'sftp://user@host/db', 'webdavs://host/db', 'file:///var/backups/db'];
    for (const url of good) expect(() => registry.resolve(url), url).not.toThrow();
    expect(() => registry.resolve('s3:///no-bucket')).toThrow(/bucket/);
    expect(() => registry.resolve('gs:///no-bucket')).toThrow(/bucket/);
    expect(() => registry.resolve('nats://localhost:4222/')).toThrow(/bucket/);
    expect(() => registry.resolve('ftp://host/x')).toThrow(/unknown replica URL scheme "ftp:\/\/"; installed backends: abs \(abs:\/\/\), file \(file:\/\/\), gs \(gs:\/\/\)/);
    for (const plugin of SHIPPED) expect(registry.isLoaded(plugin.type)).toBe(false);
  });

  it("loads each backend's own plugin on first use", async () => {
    const registry = await createBackendRegistry({ env: {} });
    for (const plugin of SHIPPED) {
      // The registry loads the built package (dist/), this test imported the sources: same facts, other objects.
      const loaded = await registry.load(plugin.type);
      expect({ type: loaded.type, schemes: loaded.schemes, configKeys: loaded.configKeys, description: loaded.description }).toEqual({
        type: plugin.type,
        schemes: plugin.schemes,
        configKeys: plugin.configKeys,
        description: plugin.description,
      });
      expect(typeof loaded.fromURL).toBe('function');
      expect(registry.isLoaded(plugin.type)).toBe(true);
    }
  });
});

describe('storage timeouts from a replica entry', () => {
  it('reach the client of every shipped backend, given as durations or milliseconds', async () => {
    const registry = await createBackendRegistry({ env: {} });
    const entries: Array<Record<string, unknown>> = [
      { type: 'file', path: '/var/backups/app' },
      { type: 's3', bucket: 'b', path: 'p', region: 'us-east-1', 'access-key-id': 'k', 'secret-access-key': 's' },
      { type: 'abs', bucket: 'container', 'account-name': 'acct', 'account-key': Buffer.from('key').toString('base64') },
      { type: 'gs', bucket: 'bucket-x', endpoint: 'http://127.0.0.1:1' },
      { type: 'nats', url: 'nats://127.0.0.1:1/bucket' },
      { type: 'sftp', host: 'example.com', user: 'u', password: 'p' },
    ];
    for (const entry of entries) {
      const client = await registry.fromConfig({ ...entry, 'connect-timeout': '3s', 'request-timeout': 45_000 });
      expect(client.timeouts, String(entry.type)).toEqual({ connectTimeout: 3000, requestTimeout: 45_000 });
      await client.close();
    }
  });

  it('refuses a timeout that is not a duration, naming the key', async () => {
    const registry = await createBackendRegistry({ env: {} });
    await expect(registry.fromConfig({ type: 'file', path: '/x', 'request-timeout': 'soon' })).rejects.toThrow(/soon/);
    await expect(registry.fromConfig({ type: 'file', path: '/x', 'connect-timeout': -1 })).rejects.toThrow(/"connect-timeout" must not be negative/);
  });
});
