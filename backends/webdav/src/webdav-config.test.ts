import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import lazyWebdavBackend from './plugin.ts';
import { parseWebdavURL, webdavSettingsFromConfig } from './webdav-config.ts';
import { locateWebdavReplica } from './webdav-location.ts';

describe('parseWebdavURL', () => {
  it('maps webdav:// to HTTP and webdavs:// to HTTPS, the URL path being the replica path', () => {
    expect(parseWebdavURL('webdav://dav.example.com/backups/app').settings).toEqual({ url: 'http://dav.example.com', path: 'backups/app' });
    expect(parseWebdavURL('webdavs://dav.example.com:8443/backups/app/').settings).toEqual({ url: 'https://dav.example.com:8443', path: 'backups/app' });
  });

  it('takes percent-decoded credentials from the URL', () => {
    expect(parseWebdavURL('webdavs://alice:p%40ss@dav.example.com/x').settings).toEqual({ url: 'https://dav.example.com', path: 'x', username: 'alice', password: 'p@ss' });
  });

  it('reports unknown query parameters', () => {
    expect(parseWebdavURL('webdav://h/x?foo=1&bar=2').ignored).toEqual(['foo', 'bar']);
  });

  it('refuses a URL without a host, and never shows the password', () => {
    expect(() => parseWebdavURL('webdav:///x')).toThrow(UsageError);
    const error = (() => {
      try {
        parseWebdavURL('webdav://u:secret@/x');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain('secret');
  });
});

describe('webdavSettingsFromConfig', () => {
  it("reads Litestream's keys: webdav-url (with a base path), webdav-username, webdav-password and path", () => {
    const { settings } = webdavSettingsFromConfig({ type: 'webdav', 'webdav-url': 'https://dav.example.com/remote.php/dav/files/me/', 'webdav-username': 'me', 'webdav-password': 'pw', path: 'backups/app' });
    expect(settings).toEqual({ url: 'https://dav.example.com/remote.php/dav/files/me', path: 'backups/app', username: 'me', password: 'pw' });
  });

  it('lets the keys override credentials in the URL', () => {
    const { settings } = webdavSettingsFromConfig({ url: 'webdav://a:b@h/p', 'webdav-password': 'c' });
    expect(settings).toEqual({ url: 'http://h', path: 'p', username: 'a', password: 'c' });
  });

  it('refuses url with path, url with webdav-url, and neither (as Litestream)', () => {
    expect(() => webdavSettingsFromConfig({ url: 'webdav://h/p', path: 'q' })).toThrow(/either "url" or "path"/);
    expect(() => webdavSettingsFromConfig({ url: 'webdav://h/p', 'webdav-url': 'http://h' })).toThrow(/either "url" or "webdav-url"/);
    expect(() => webdavSettingsFromConfig({ type: 'webdav' })).toThrow(/needs "webdav-url"/);
  });

  it('refuses a webdav-url that is not http(s), naming the key', () => {
    expect(() => webdavSettingsFromConfig({ 'webdav-url': 'ftp://h/x' })).toThrow(/webdav-url .* must use http:\/\/ or https:\/\//);
    expect(() => webdavSettingsFromConfig({ 'webdav-url': 42 })).toThrow(/"webdav-url" must be a string/);
  });
});

describe('locateWebdavReplica', () => {
  it('puts the base path and the replica path together, so two spellings of one place compare equal', () => {
    const a = locateWebdavReplica({ 'webdav-url': 'https://DAV.example.com/base', path: 'app' });
    const b = locateWebdavReplica({ url: 'webdavs://dav.example.com/base/app' });
    expect(a).toEqual(b);
  });
});

describe('the webdav plugin', () => {
  it('routes webdav:// and webdavs:// URLs and type: webdav without loading the backend', () => {
    const registry = new BackendRegistry().registerLazy(lazyWebdavBackend);
    expect(registry.resolve('webdavs://h/p').plugin.type).toBe('webdav');
    expect(registry.resolve('webdav://h/p').plugin.type).toBe('webdav');
    expect(registry.forType('webdav').configKeys).toEqual(['webdav-url', 'webdav-username', 'webdav-password']);
    expect(registry.isLoaded('webdav')).toBe(false);
  });

  it('builds a client from a config entry with the timeouts of the entry', async () => {
    const registry = new BackendRegistry().registerLazy(lazyWebdavBackend);
    const client = await registry.fromConfig({ type: 'webdav', 'webdav-url': 'http://127.0.0.1:9/dav', path: 'db', 'request-timeout': '5s' });
    expect(client.type).toBe('webdav');
    expect(client.timeouts.requestTimeout).toBe(5000);
    expect(client.ltxFileLocation({ level: 0, minTXID: 1, maxTXID: 2 })).toBe('http://127.0.0.1:9/dav/db/ltx/0/0000000000000001-0000000000000002.ltx');
    await client.close();
  });
});
