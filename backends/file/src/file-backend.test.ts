import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError, defaultRegistry } from '@litestream-ts/core';
import { fileBackend, registerFileBackend } from './file-backend.ts';
import { FileReplicaClient } from './file-replica-client.ts';

const rootOf = async (client: unknown): Promise<string> => {
  expect(client).toBeInstanceOf(FileReplicaClient);
  return (client as FileReplicaClient).root;
};

describe('fileBackend URLs', () => {
  it('opens file:///abs/path at that absolute path', async () => {
    expect(await rootOf(fileBackend.fromURL('file:///var/backups/app'))).toBe('/var/backups/app');
  });

  it('decodes percent-escapes in file URLs', async () => {
    expect(await rootOf(fileBackend.fromURL('file:///tmp/my%20backups/%C3%A9t%C3%A9'))).toBe('/tmp/my backups/été');
  });

  it('accepts file://localhost/path', async () => {
    expect(await rootOf(fileBackend.fromURL('file://localhost/srv/replica'))).toBe('/srv/replica');
  });

  it('rejects a URL with a host, pointing at the three-slash form', () => {
    expect(() => fileBackend.fromURL('file://backups/app')).toThrow(UsageError);
    expect(() => fileBackend.fromURL('file://backups/app')).toThrow(/file:\/\/\//);
  });

  it('rejects URLs of other schemes', () => {
    expect(() => fileBackend.fromURL('s3://bucket/path')).toThrow(UsageError);
  });
});

describe('fileBackend config', () => {
  it('resolves a relative path against the working directory', async () => {
    expect(await rootOf(fileBackend.fromConfig({ type: 'file', path: 'backups/app' }))).toBe(resolve('backups/app'));
  });

  it('keeps an absolute path and expands ~ to the home directory', async () => {
    expect(await rootOf(fileBackend.fromConfig({ path: '/data/replica' }))).toBe('/data/replica');
    expect(await rootOf(fileBackend.fromConfig({ path: '~/replica' }))).toBe(join(homedir(), 'replica'));
  });

  it('accepts a file URL in "url" instead of "path"', async () => {
    expect(await rootOf(fileBackend.fromConfig({ url: 'file:///data/replica' }))).toBe('/data/replica');
  });

  it('treats a scheme-less "url" as a local path', async () => {
    expect(await rootOf(fileBackend.fromConfig({ url: './replica' }))).toBe(resolve('replica'));
  });

  it('rejects a missing or empty path with a UsageError that names the keys to set', () => {
    for (const config of [{ type: 'file' }, { type: 'file', path: '' }]) {
      expect(() => fileBackend.fromConfig(config)).toThrow(UsageError);
      expect(() => fileBackend.fromConfig(config)).toThrow(/set "path"/);
    }
  });

  it('rejects a path that is not a string', () => {
    expect(() => fileBackend.fromConfig({ path: 42 })).toThrow(/"path" must be a string/);
  });

  it('rejects both "path" and "url" at once', () => {
    expect(() => fileBackend.fromConfig({ path: '/a', url: 'file:///b' })).toThrow(/only one/);
  });
});

describe('registerFileBackend', () => {
  it('registers nothing on import, so the default registry stays untouched', () => {
    expect(defaultRegistry.list().map((p) => p.type)).not.toContain('file');
  });

  it('lets a registry resolve file:// URLs, plain paths and path configs to file clients', async () => {
    const registry = registerFileBackend(new BackendRegistry());
    expect(await rootOf(await registry.fromURL('file:///srv/a'))).toBe('/srv/a');
    expect(await rootOf(await registry.fromURL('relative/dir'))).toBe(resolve('relative/dir'));
    expect(await rootOf(await registry.fromURL(pathToFileURL('/tmp/with space').href))).toBe('/tmp/with space');
    expect(await rootOf(await registry.fromConfig({ path: '/srv/b' }))).toBe('/srv/b');
    expect(await rootOf(await registry.fromConfig({ type: 'file', path: 'c' }))).toBe(resolve('c'));
  });

  it('can be called twice on the same registry', () => {
    const registry = new BackendRegistry();
    registerFileBackend(registry);
    expect(() => registerFileBackend(registry)).not.toThrow();
    expect(registry.forType('file')).toBe(fileBackend);
  });
});
