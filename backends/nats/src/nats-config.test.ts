import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import { parseDuration } from './duration.ts';
import { registerNatsBackend, natsBackend } from './nats-backend.ts';
import { natsOptionsFromConfig } from './nats-config.ts';
import { connectionOptions } from './nats-connection.ts';
import { NatsRequestError } from './nats-errors.ts';
import { NatsReplicaClient } from './nats-replica-client.ts';
import { resolveNatsSettings } from './nats-settings.ts';
import { parseNatsUrl } from './nats-url.ts';
import { NatsObjectLayout } from './object-layout.ts';
import { metaSubject } from './object-meta.ts';
import { formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';

describe('parseNatsUrl', () => {
  it('reads server, bucket and credentials', () => {
    expect(parseNatsUrl('nats://user:p%40ss@nats.example.com:4223/backups')).toEqual({
      server: 'nats://nats.example.com:4223', bucket: 'backups', username: 'user', password: 'p@ss', ignored: [],
    });
    expect(parseNatsUrl('nats://localhost/db-1/')).toMatchObject({ server: 'nats://localhost', bucket: 'db-1', username: undefined });
    expect(parseNatsUrl('nats://[::1]:4222/b').server).toBe('nats://[::1]:4222');
    expect(parseNatsUrl('nats:///b').server).toBeUndefined();
    expect(parseNatsUrl('nats://h/b?tls=true&x=1').ignored).toEqual(['tls', 'x']);
  });

  it('refuses a URL without a bucket, or with more than one path segment, masking the password', () => {
    expect(() => parseNatsUrl('nats://u:secret-pw@host:4222')).toThrow(/bucket required .*nats:\/\/u:\*\*\*\*@host:4222/);
    expect(() => parseNatsUrl('nats://u:secret-pw@host:4222')).not.toThrow(/secret-pw/);
    expect(() => parseNatsUrl('nats://host/a/b')).toThrow(/single bucket name/);
    expect(() => parseNatsUrl('s3://host/a')).toThrow(UsageError);
  });
});

describe('natsOptionsFromConfig', () => {
  it('reads Litestream’s NATS keys', () => {
    const { options } = natsOptionsFromConfig({
      type: 'nats', url: 'nats://nats.local:4222/backups', jwt: 'eyJ', seed: 'SUAX', creds: '/etc/x.creds', nkey: 'SUAY',
      username: 'u', password: 'p', token: 't', tls: 'true', 'root-cas': ['/ca1.pem', '/ca2.pem'], 'client-cert': '/c.pem', 'client-key': '/k.pem',
      'max-reconnects': 5, 'reconnect-wait': '250ms', timeout: '1m30s', 'sync-interval': '1s',
    });
    expect(options).toEqual({
      bucket: 'backups', server: 'nats://nats.local:4222', jwt: 'eyJ', seed: 'SUAX', creds: '/etc/x.creds', nkey: 'SUAY', username: 'u', password: 'p', token: 't',
      tls: true, rootCAs: ['/ca1.pem', '/ca2.pem'], clientCert: '/c.pem', clientKey: '/k.pem', maxReconnects: 5, reconnectWaitMs: 250, timeoutMs: 90_000,
    });
  });

  it('takes the bucket from the URL over "bucket" (as Litestream), else from "bucket"; entry credentials win over the URL’s', () => {
    expect(natsOptionsFromConfig({ url: 'nats://h/from-url', bucket: 'other' }).options.bucket).toBe('from-url');
    expect(natsOptionsFromConfig({ bucket: 'only' }).options).toEqual({ bucket: 'only', server: undefined });
    expect(natsOptionsFromConfig({ url: 'nats://a:b@h/x', username: 'c', password: 'd' }).options).toMatchObject({ username: 'c', password: 'd' });
  });

  it('fills unset keys from globals, never the bucket', () => {
    const { options } = natsOptionsFromConfig({ url: 'nats://h/x', token: 'mine' }, { token: 'global', 'reconnect-wait': '1s', bucket: 'global-bucket' });
    expect(options).toMatchObject({ bucket: 'x', token: 'mine', reconnectWaitMs: 1000 });
  });

  it('refuses values of the wrong shape', () => {
    expect(() => natsOptionsFromConfig({ bucket: 'b', tls: 'sometimes' })).toThrow(/tls" must be true or false/);
    expect(() => natsOptionsFromConfig({ bucket: 'b', 'max-reconnects': 'many' })).toThrow(/max-reconnects" must be an integer/);
    expect(() => natsOptionsFromConfig({ bucket: 'b', timeout: 5 })).toThrow(/timeout" must be a duration/);
    expect(() => natsOptionsFromConfig({ bucket: ['b'] })).toThrow(UsageError);
  });
});

describe('parseDuration', () => {
  it('reads Go durations into milliseconds', () => {
    expect(parseDuration('k', '2s')).toBe(2000);
    expect(parseDuration('k', '1m30s')).toBe(90_000);
    expect(parseDuration('k', '1.5h')).toBe(5_400_000);
    expect(parseDuration('k', '750ms')).toBe(750);
    expect(parseDuration('k', '0')).toBe(0);
    expect(() => parseDuration('k', '2 seconds')).toThrow(UsageError);
    expect(() => parseDuration('k', '')).toThrow(UsageError);
  });
});

describe('resolveNatsSettings', () => {
  it('fills defaults: local server, unlimited reconnects, short wait', () => {
    expect(resolveNatsSettings({ bucket: 'b' })).toMatchObject({
      servers: ['nats://127.0.0.1:4222'], path: '', auth: { kind: 'none' }, tls: undefined, maxReconnects: -1, reconnectWaitMs: 500, timeoutMs: 10_000, createBucket: true,
    });
  });

  it('picks credentials in Litestream’s order: jwt+seed, creds, nkey, user+password, token', () => {
    const all = { bucket: 'b', jwt: 'J', seed: 'S', creds: '/c', nkey: 'N', username: 'u', password: 'p', token: 't' };
    expect(resolveNatsSettings(all).auth.kind).toBe('jwt');
    expect(resolveNatsSettings({ ...all, jwt: undefined, seed: undefined }).auth.kind).toBe('creds');
    expect(resolveNatsSettings({ ...all, jwt: undefined, seed: undefined, creds: undefined }).auth.kind).toBe('nkey');
    expect(resolveNatsSettings({ bucket: 'b', username: 'u', password: 'p', token: 't' }).auth.kind).toBe('userpass');
    expect(resolveNatsSettings({ bucket: 'b', username: 'u', token: 't' }).auth.kind).toBe('token');
  });

  it('turns TLS on for root CAs or a client certificate, and wants cert and key together', () => {
    expect(resolveNatsSettings({ bucket: 'b', rootCAs: ['/ca.pem'] }).tls).toEqual({ rootCAs: ['/ca.pem'], clientCert: undefined, clientKey: undefined });
    expect(() => resolveNatsSettings({ bucket: 'b', clientCert: '/c.pem' })).toThrow(/client-cert and client-key must both be specified/);
    expect(() => resolveNatsSettings({ bucket: 'b', jwt: 'J' })).toThrow(/"jwt" and "seed" must be given together/);
  });

  it('refuses invalid bucket names and credentials inside server URLs', () => {
    expect(() => resolveNatsSettings({ bucket: '' })).toThrow(/needs a bucket/);
    expect(() => resolveNatsSettings({ bucket: 'a.b' })).toThrow(/not a valid object store name/);
    expect(() => resolveNatsSettings({ bucket: 'b', server: 'nats://u:pw@h' })).toThrow(/must not carry credentials/);
  });

  it('passes credentials to nats.js as options, never inside a server URL', () => {
    const options = connectionOptions(resolveNatsSettings({ bucket: 'b', server: 'nats://h:1', username: 'u', password: 'pw' }));
    expect(options).toMatchObject({ servers: ['nats://h:1'], user: 'u', pass: 'pw', maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 10_000 });
  });
});

describe('NatsObjectLayout', () => {
  it('names files as Litestream’s NATS client does, with an optional path', () => {
    const ref = { level: 9, minTXID: 1, maxTXID: 0xff };
    expect(new NatsObjectLayout('').ltxName(ref)).toBe('ltx/9/0000000000000001-00000000000000ff.ltx');
    expect(new NatsObjectLayout('db').ltxName({ ...ref, level: 10 - 1 })).toBe('db/ltx/9/0000000000000001-00000000000000ff.ltx');
    const layout = new NatsObjectLayout('');
    expect(layout.parseLtxName('ltx/0/0000000000000002-0000000000000003.ltx', 0)).toEqual({ level: 0, minTXID: 2, maxTXID: 3 });
    expect(layout.parseLtxName('ltx/0/0000000000000002-0000000000000003.ltx', 1)).toBeUndefined();
    expect(layout.parseLtxName('ltx/0/junk.ltx', 0)).toBeUndefined();
    expect(layout.parseLtxName('ltx/0/ffffffffffffffff-ffffffffffffffff.ltx', 0)).toBeUndefined();
  });

  it('derives meta subjects as nats.js does (base64url with padding)', () => {
    expect(metaSubject('b', 'lock.json')).toBe('$O.b.M.bG9jay5qc29u');
    expect(metaSubject('b', 'ltx/0/a?')).toBe('$O.b.M.bHR4LzAvYT8=');
  });
});

describe('LTX timestamps', () => {
  it('formats like Go’s RFC3339Nano and parses offsets', () => {
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.120Z'))).toBe('2024-05-06T07:08:09.12Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.000Z'))).toBe('2024-05-06T07:08:09Z');
    expect(parseLtxTimestamp('2024-05-06T09:08:09.123456789+02:00')?.toISOString()).toBe('2024-05-06T07:08:09.123Z');
    expect(parseLtxTimestamp('yesterday')).toBeUndefined();
  });
});

describe('natsBackend plugin', () => {
  const registry = registerNatsBackend(new BackendRegistry());

  it('registers type nats for nats:// URLs and declares Litestream’s NATS keys', () => {
    expect(registry.forType('nats')).toBe(natsBackend);
    expect(natsBackend.schemes).toEqual(['nats']);
    for (const key of ['bucket', 'jwt', 'seed', 'creds', 'nkey', 'username', 'password', 'token', 'tls', 'root-cas', 'client-cert', 'client-key', 'max-reconnects', 'reconnect-wait', 'timeout']) {
      expect(natsBackend.configKeys).toContain(key);
    }
  });

  it('builds a client from a URL without connecting, with globals filling the rest', async () => {
    const warnings: string[] = [];
    const client = (await registry.fromURL('nats://u:secret-pw@nats.invalid:4222/backups?colour=red', { globals: { timeout: '3s' }, warn: (m) => warnings.push(m) })) as NatsReplicaClient;
    expect(client).toBeInstanceOf(NatsReplicaClient);
    expect(client.settings).toMatchObject({ bucket: 'backups', servers: ['nats://nats.invalid:4222'], timeoutMs: 3000, auth: { kind: 'userpass', username: 'u' } });
    expect(client.describe()).toBe('nats://nats.invalid:4222/backups');
    expect(warnings).toEqual(['nats replica URL: ignoring query parameter(s) "colour"']);
    await client.close();
  });

  it('builds a client from a config entry, and checks URLs at load time', async () => {
    const client = (await registry.fromConfig({ type: 'nats', bucket: 'b', path: 'db', 'reconnect-wait': '2s' })) as NatsReplicaClient;
    expect(client.settings).toMatchObject({ bucket: 'b', path: 'db', reconnectWaitMs: 2000 });
    await client.close();
    expect(() => registry.resolve('nats://host:4222')).toThrow(/bucket required/);
    await expect(registry.fromConfig({ type: 'nats' })).rejects.toThrow(/needs a bucket/);
  });

  it('never puts a password or token into an error message', () => {
    const error = new NatsRequestError('connect', 'nats://h/b', Object.assign(new Error('bad token tok-123 for p4ssw0rd'), { code: 'X' }), ['tok-123', 'p4ssw0rd'], 1000);
    expect(error.message).toBe('nats://h/b: nats connect failed: bad token **** for **** (X)');
    expect(String((error.cause as Error).message)).not.toMatch(/tok-123|p4ssw0rd/);
  });
});
