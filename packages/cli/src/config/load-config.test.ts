import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { defaultConfigPath } from './defaults.ts';
import { loadConfig } from './load-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lts-load-config-'));

  it('reads and checks a file, naming it in errors', async () => {
    const file = join(dir, 'litestream.yml');
    writeFileSync(join(dir, 'app.db'), '');
    writeFileSync(file, `dbs:\n  - path: ${dir}/app.db\n    replica:\n      url: s3://bucket/app\n`);
    const config = await loadConfig(file, { registry: fakeRegistry(), env: {} });
    expect(config.dbs.map((db) => db.replica.url)).toEqual(['s3://bucket/app']);

    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'dbs:\n  - path: /x\n    busy-timout: 1s\n');
    await expect(loadConfig(bad, { registry: fakeRegistry(), env: {} })).rejects.toThrow(`${bad}:3:5: dbs[0].busy-timout: unknown key "busy-timout"; did you mean "busy-timeout"?`);
  });

  it('says how to pass a config when the file is missing', async () => {
    const missing = join(dir, 'nope.yml');
    const promise = loadConfig(missing, { registry: fakeRegistry() });
    await expect(promise).rejects.toBeInstanceOf(ConfigError);
    await expect(promise).rejects.toThrow(`${missing}: config file not found; pass one with -config PATH or set LITESTREAM_CONFIG`);
  });

  it('refuses a directory', async () => {
    await expect(loadConfig(dir, { registry: fakeRegistry() })).rejects.toThrow(`${dir}: is a directory, not a config file; pass one with -config PATH or set LITESTREAM_CONFIG`);
  });
});

describe('defaultConfigPath', () => {
  it('is $LITESTREAM_CONFIG when set, else /etc/litestream.yml', () => {
    expect(defaultConfigPath({ LITESTREAM_CONFIG: '/srv/litestream.yml' })).toBe('/srv/litestream.yml');
    expect(defaultConfigPath({ LITESTREAM_CONFIG: '' })).toBe('/etc/litestream.yml');
    expect(defaultConfigPath({})).toBe('/etc/litestream.yml');
  });
});
