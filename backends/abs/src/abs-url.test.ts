import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import { absBackend, registerAbsBackend } from './abs-backend.ts';
import { absOptionsFromConfig } from './abs-config.ts';
import { AbsReplicaClient } from './abs-replica-client.ts';
import { chooseAbsCredentials, resolveAbsSettings } from './abs-settings.ts';
import { parseAbsUrl } from './abs-url.ts';

describe('parseAbsUrl', () => {
  it.each([
    ['abs://mycontainer/db/app', { container: 'mycontainer', path: 'db/app' }],
    ['abs://mycontainer', { container: 'mycontainer', path: '' }],
    ['abs://myaccount@mycontainer/db//app/', { container: 'mycontainer', path: 'db/app', accountName: 'myaccount' }],
    ['abs://myaccount.blob.core.windows.net/mycontainer/db', { container: 'mycontainer', path: 'db', accountName: 'myaccount', endpoint: 'https://myaccount.blob.core.windows.net' }],
    ['abs://myaccount@myaccount.blob.core.windows.net/mycontainer/db', { container: 'mycontainer', path: 'db', accountName: 'myaccount', endpoint: 'https://myaccount.blob.core.windows.net' }],
    ['abs://devstoreaccount1@127.0.0.1:10000/mycontainer/db', { container: 'mycontainer', path: 'db', accountName: 'devstoreaccount1', endpoint: 'http://127.0.0.1:10000/devstoreaccount1' }],
  ])('%s', (url, options) => {
    expect(parseAbsUrl(url)).toEqual({ options, ignored: [] });
  });

  it('reports query parameters as ignored', () => {
    expect(parseAbsUrl('abs://mycontainer/db?foo=1&bar=2').ignored).toEqual(['foo', 'bar']);
  });

  it.each([
    ['abs://', /names no container/],
    ['abs://MyContainer/db', /container name "MyContainer" is invalid/],
    ['abs://a--b/db', /is invalid/],
    ['abs://myaccount.blob.core.windows.net/', /names no container/],
    ['abs://other@myaccount.blob.core.windows.net/c1c/db', /names account "other" but its host belongs to account "myaccount"/],
    ['abs://127.0.0.1:10000/mycontainer/db', /emulator host: name the account/],
  ])('refuses %s', (url, message) => {
    expect(() => parseAbsUrl(url)).toThrow(message);
  });

  it('refuses a key in the URL without repeating it', () => {
    const error = (() => {
      try {
        parseAbsUrl('abs://acct:SECRETKEY@mycontainer/db');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toContain('must not carry a key');
    expect(error?.message).not.toContain('SECRETKEY');
  });
});

describe('absOptionsFromConfig', () => {
  it('reads Litestream keys, bucket being the container', () => {
    const { options } = absOptionsFromConfig({ type: 'abs', bucket: 'backups', path: 'db', 'account-name': 'acct', 'account-key': 'a2V5', endpoint: 'http://127.0.0.1:10000/acct' });
    expect(options).toEqual({ container: 'backups', path: 'db', accountName: 'acct', accountKey: 'a2V5', endpoint: 'http://127.0.0.1:10000/acct' });
  });

  it('takes container, path and account from url; entry keys win; globals fill credentials', () => {
    const { options } = absOptionsFromConfig({ url: 'abs://acct@backups/db', 'sas-token': 'sv=1&sig=x' }, { 'account-name': 'global', 'account-key': 'Z2xvYmFs', 'sas-token': 'ignored' });
    expect(options).toEqual({ container: 'backups', path: 'db', accountName: 'acct', accountKey: 'Z2xvYmFs', sasToken: 'sv=1&sig=x' });
  });

  it('refuses url together with bucket or path, and a missing container', () => {
    expect(() => absOptionsFromConfig({ url: 'abs://c12/db', bucket: 'c12' })).toThrow(/both "url" and "bucket"/);
    expect(() => absOptionsFromConfig({ url: 'abs://c12/db', path: 'x' })).toThrow(/both "url" and "path"/);
    expect(() => absOptionsFromConfig({ 'account-name': 'acct' })).toThrow(/needs a container/);
    expect(() => absOptionsFromConfig({ bucket: ['a'] })).toThrow(/"bucket" must be text, got a list/);
  });
});

describe('settings and credentials', () => {
  it('derives the endpoint from the account, and the account from an endpoint', () => {
    expect(resolveAbsSettings({ container: 'c12', accountName: 'acct' }).endpoint).toBe('https://acct.blob.core.windows.net');
    expect(resolveAbsSettings({ container: 'c12', endpoint: 'acct.blob.core.windows.net/' })).toMatchObject({ account: 'acct', endpoint: 'https://acct.blob.core.windows.net' });
    expect(resolveAbsSettings({ container: 'c12', endpoint: '127.0.0.1:10000/devstoreaccount1' })).toMatchObject({ account: 'devstoreaccount1', endpoint: 'http://127.0.0.1:10000/devstoreaccount1' });
    expect(() => resolveAbsSettings({ container: 'c12' })).toThrow(/needs "account-name"/);
    expect(() => resolveAbsSettings({ container: 'c12', accountName: 'acct', path: 'db/../../etc' })).toThrow(/must not contain ".."/);
  });

  it('prefers the replica sas-token, then account-key, then the environment, then DefaultAzureCredential', () => {
    const env = { LITESTREAM_AZURE_SAS_TOKEN: '?sv=env', LITESTREAM_AZURE_ACCOUNT_KEY: 'ZW52' };
    expect(chooseAbsCredentials({ container: 'c12', sasToken: '?sv=cfg', accountKey: 'a2V5' }, 'acct', env)).toEqual({ source: 'sas-token', sasToken: 'sv=cfg' });
    expect(chooseAbsCredentials({ container: 'c12', accountKey: 'a2V5' }, 'acct', env)).toEqual({ source: 'account-key', accountKey: 'a2V5' });
    expect(chooseAbsCredentials({ container: 'c12' }, 'acct', env)).toEqual({ source: 'LITESTREAM_AZURE_SAS_TOKEN', sasToken: 'sv=env' });
    expect(chooseAbsCredentials({ container: 'c12' }, 'acct', { LITESTREAM_AZURE_ACCOUNT_KEY: 'ZW52' })).toEqual({ source: 'LITESTREAM_AZURE_ACCOUNT_KEY', accountKey: 'ZW52' });
    expect(chooseAbsCredentials({ container: 'c12' }, 'acct', {})).toEqual({ source: 'default-azure-credential' });
    expect(() => chooseAbsCredentials({ container: 'c12', accountKey: 'a2V5' }, '', {})).toThrow(/needs the storage account's name/);
  });
});

describe('absBackend', () => {
  it('registers type abs and scheme abs, and checks URLs without connecting', () => {
    const registry = registerAbsBackend(new BackendRegistry());
    expect(registry.forType('abs')).toBe(absBackend);
    expect(() => registry.resolve('abs://Bad_Name/db')).toThrow(UsageError);
    expect(registry.resolve('abs://acct@good-name/db').plugin).toBe(absBackend);
  });

  it('builds clients from a URL (with global credentials) and from config, warning about ignored parameters', async () => {
    const warnings: string[] = [];
    const registry = registerAbsBackend(new BackendRegistry());
    const fromUrl = await registry.fromURL('abs://acct@backups/db?tier=cool', { globals: { 'account-key': 'a2V5' }, warn: (m) => warnings.push(m) });
    expect(fromUrl).toBeInstanceOf(AbsReplicaClient);
    expect((fromUrl as AbsReplicaClient).settings).toEqual({ container: 'backups', path: 'db', account: 'acct', endpoint: 'https://acct.blob.core.windows.net' });
    expect((fromUrl as AbsReplicaClient).credentialSource).toBe('account-key');
    expect(warnings).toEqual(['abs replica URL: ignoring query parameter(s) "tier"']);
    const fromConfig = (await registry.fromConfig({ type: 'abs', bucket: 'backups', 'account-name': 'acct', 'sas-token': 'sv=1&sig=abc' })) as AbsReplicaClient;
    expect(fromConfig.credentialSource).toBe('sas-token');
    expect(fromConfig.layout.ltxKey({ level: 9, minTXID: 1, maxTXID: 2 })).toBe('ltx/9/0000000000000001-0000000000000002.ltx');
  });
});
