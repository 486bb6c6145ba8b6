import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import { fingerprintOf, parseHostKey } from './host-key.ts';
import { registerSftpBackend, sftpBackend } from './sftp-backend.ts';
import { parseSftpURL, sftpSettingsFromConfig, splitHostPort } from './sftp-config.ts';
import { SftpReplicaClient } from './sftp-replica-client.ts';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';

describe('sftp URLs', () => {
  it('reads user, password, host, port and an absolute path', () => {
    expect(parseSftpURL('sftp://alice:s3cret@backup.example.com:2222/var/backups/app').settings).toEqual({
      host: 'backup.example.com',
      port: 2222,
      user: 'alice',
      password: 's3cret',
      path: '/var/backups/app',
    });
  });

  it('defaults the port, percent-decodes user, password and path, and reads IPv6 hosts', () => {
    expect(parseSftpURL('sftp://bob%40corp:p%3Aw%2Fd@[::1]/my%20dir').settings).toEqual({ host: '::1', user: 'bob@corp', password: 'p:w/d', path: '/my dir' });
  });

  it('names a directory under the login directory with /~/', () => {
    expect(parseSftpURL('sftp://u@h/~/backups').settings.path).toBe('backups');
    expect(parseSftpURL('sftp://u@h/~').settings.path).toBe('');
  });

  it('reports unknown query parameters as ignored', () => {
    expect(parseSftpURL('sftp://u@h/p?foo=1&bar=2').ignored).toEqual(['foo', 'bar']);
  });

  it('refuses a URL without a host or a user, and never echoes the password', () => {
    expect(() => parseSftpURL('sftp:///path')).toThrow(/has no host/);
    expect(() => parseSftpURL('sftp://host/path')).toThrow(/has no user/);
    const error = (() => {
      try {
        parseSftpURL('sftp://:hunter2@/x');
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).not.toContain('hunter2');
  });

  it('is checked by the plugin without connecting', () => {
    expect(() => sftpBackend.checkURL!('sftp://u@h:22/p')).not.toThrow();
    expect(() => sftpBackend.checkURL!('sftp://h/p')).toThrow(UsageError);
  });

  it('builds a client through a registry', async () => {
    const registry = registerSftpBackend(new BackendRegistry());
    const client = (await registry.fromURL('sftp://u:p@h:2022/data')) as SftpReplicaClient;
    expect(client).toBeInstanceOf(SftpReplicaClient);
    expect(client.type).toBe('sftp');
    expect(client.address).toBe('u@h:2022');
    expect(client.ltxPath({ level: 3, minTXID: 1, maxTXID: 2 })).toBe('/data/ltx/3/0000000000000001-0000000000000002.ltx');
    await client.close();
  });
});

describe('sftp config entries', () => {
  it("reads Litestream's keys", () => {
    const { settings } = sftpSettingsFromConfig({
      type: 'sftp',
      host: 'backup.example.com:2222',
      user: 'alice',
      password: 'pw',
      path: '/srv/app',
      'key-path': '/home/alice/.ssh/id_ed25519',
      'host-key': ED25519,
      'concurrent-writes': false,
    });
    expect(settings).toEqual({
      host: 'backup.example.com',
      port: 2222,
      user: 'alice',
      password: 'pw',
      path: '/srv/app',
      keyPath: '/home/alice/.ssh/id_ed25519',
      hostKey: ED25519,
      concurrentWrites: false,
    });
  });

  it('lets keys override what the url says', () => {
    const { settings } = sftpSettingsFromConfig({ url: 'sftp://u:p@h:22/a', path: '/b', user: 'v' });
    expect(settings).toEqual({ host: 'h', port: 22, user: 'v', password: 'p', path: '/b' });
  });

  it('accepts "true"/"false" strings for concurrent-writes (env expansion yields strings)', () => {
    expect(sftpSettingsFromConfig({ host: 'h', user: 'u', 'concurrent-writes': 'false' }).settings.concurrentWrites).toBe(false);
    expect(() => sftpSettingsFromConfig({ host: 'h', user: 'u', 'concurrent-writes': 'yes' })).toThrow(/must be true or false/);
  });

  it('says which key is missing', () => {
    expect(() => sftpSettingsFromConfig({ user: 'u' })).toThrow(/needs a host: set "host"/);
    expect(() => sftpSettingsFromConfig({ host: 'h' })).toThrow(/needs a user: set "user"/);
    expect(() => sftpSettingsFromConfig({ host: 'h', user: 3 })).toThrow(/"user" must be a string/);
  });

  it('splits host and port like Go does', () => {
    expect(splitHostPort('h')).toEqual({ host: 'h' });
    expect(splitHostPort('h:2222')).toEqual({ host: 'h', port: 2222 });
    expect(splitHostPort('[::1]:2222')).toEqual({ host: '::1', port: 2222 });
    expect(splitHostPort('::1')).toEqual({ host: '::1' });
    expect(() => splitHostPort('h:99999')).toThrow(/invalid port/);
    expect(() => splitHostPort('h:x')).toThrow(/invalid port/);
  });

  it('lists its config keys for unknown-key reports', () => {
    expect(sftpBackend.configKeys).toEqual(['host', 'user', 'password', 'key-path', 'host-key', 'concurrent-writes']);
  });

  it('refuses a malformed host-key at construction', () => {
    expect(() => sftpBackend.fromConfig({ host: 'h', user: 'u', password: 'p', 'host-key': 'not a key' })).toThrow(/host-key must be a public key/);
    expect(() => sftpBackend.fromConfig({ host: 'h', user: 'u', password: 'p', 'host-key': 'ssh-ed25519 AAAAB3NzaC1yc2E=' })).toThrow(/not a valid ssh-ed25519 public key/);
  });
});

describe('host keys', () => {
  it('parses authorized_keys and known_hosts forms to the same fingerprint', () => {
    const plain = parseHostKey(ED25519);
    expect(plain.fingerprint).toBe(fingerprintOf(Buffer.from(ED25519.split(' ')[1]!, 'base64')));
    expect(parseHostKey(`${ED25519} comment here`).fingerprint).toBe(plain.fingerprint);
    expect(parseHostKey(`backup.example.com,10.0.0.1 ${ED25519}`).fingerprint).toBe(plain.fingerprint);
    expect(parseHostKey(plain.fingerprint)).toEqual({ fingerprint: plain.fingerprint });
  });
});
