import { describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import { gcsBackend, registerGcsBackend } from './gcs-backend.ts';
import { gcsOptionsFromConfig } from './gcs-config.ts';
import { GcsLayout } from './gcs-layout.ts';
import { GcsReplicaClient } from './gcs-replica-client.ts';
import { normalizeEndpoint, resolveGcsSettings } from './gcs-settings.ts';
import { parseGcsUrl } from './gcs-url.ts';
import { formatLtxTimestamp, parseLtxTimestamp } from './ltx-timestamp.ts';

describe('gs:// URLs', () => {
  it('takes the bucket from the host and a cleaned path', () => {
    expect(parseGcsUrl('gs://my-bucket/backups//app.db/').options).toEqual({ bucket: 'my-bucket', path: 'backups/app.db' });
    expect(parseGcsUrl('gs://my-bucket').options).toEqual({ bucket: 'my-bucket', path: '' });
    expect(parseGcsUrl('GS://b-1/a%20b').options.path).toBe('a b');
  });

  it('accepts ?endpoint= (ours) and reports other query parameters as ignored', () => {
    expect(parseGcsUrl('gs://b-1/db?endpoint=localhost:4443&x=1')).toEqual({ options: { bucket: 'b-1', path: 'db', endpoint: 'localhost:4443' }, ignored: ['x'] });
  });

  it('refuses a missing bucket, credentials in the URL and other schemes', () => {
    expect(() => parseGcsUrl('gs:///db')).toThrow(/bucket required/);
    expect(() => parseGcsUrl('gs://user:secret@b/db')).toThrow(UsageError);
    expect(() => parseGcsUrl('gs://user:secret@b/db')).not.toThrow(/secret/);
    expect(() => parseGcsUrl('s3://b/db')).toThrow(/not a gs:\/\/ URL/);
  });

  it('is found in a registry by scheme and by type gs', async () => {
    const registry = registerGcsBackend(new BackendRegistry());
    expect(registry.forType('gs')).toBe(gcsBackend);
    const client = await registry.fromURL('gs://b-1/db?endpoint=127.0.0.1:1');
    expect(client).toBeInstanceOf(GcsReplicaClient);
    expect((client as GcsReplicaClient).describe()).toBe('gs://b-1/db (endpoint http://127.0.0.1:1)');
    expect(() => registry.resolve('gs:///nobucket')).toThrow(UsageError);
  });

  it('warns about ignored query parameters', () => {
    const warnings: string[] = [];
    gcsBackend.fromURL('gs://b-1/db?endpoint=127.0.0.1:1&bogus=1', { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(['gs replica URL: ignoring unknown query parameter(s) "bogus"']);
  });
});

describe('config entries', () => {
  it('reads bucket, path and endpoint', () => {
    expect(gcsOptionsFromConfig({ type: 'gs', bucket: 'b-1', path: '/db/', endpoint: 'localhost:4443' }).options).toEqual({ bucket: 'b-1', path: '/db/', endpoint: 'localhost:4443' });
    expect(gcsOptionsFromConfig({ url: 'gs://b-1/db' }).options).toEqual({ bucket: 'b-1', path: 'db' });
  });

  it('refuses url together with bucket or path, and a missing bucket, as Litestream does', () => {
    expect(() => gcsOptionsFromConfig({ url: 'gs://b-1/db', path: 'x' })).toThrow('cannot specify url & path for gs replica');
    expect(() => gcsOptionsFromConfig({ url: 'gs://b-1/db', bucket: 'x' })).toThrow('cannot specify url & bucket for gs replica');
    expect(() => gcsOptionsFromConfig({ path: 'db' })).toThrow('bucket required for gs replica');
  });

  it('takes a global endpoint only when the entry has none', () => {
    expect(gcsOptionsFromConfig({ bucket: 'b-1' }, { endpoint: 'g:1' }).options.endpoint).toBe('g:1');
    expect(gcsOptionsFromConfig({ bucket: 'b-1', endpoint: 'e:1' }, { endpoint: 'g:1' }).options.endpoint).toBe('e:1');
  });

  it('declares its config keys', () => {
    expect(gcsBackend.configKeys).toEqual(['bucket', 'path', 'endpoint']);
  });
});

describe('settings', () => {
  it('uses STORAGE_EMULATOR_HOST as the endpoint (anonymous) unless one is given', () => {
    expect(resolveGcsSettings({ bucket: 'b-1', env: { STORAGE_EMULATOR_HOST: 'localhost:4443' } })).toMatchObject({ endpoint: 'http://localhost:4443', credentials: 'anonymous' });
    expect(resolveGcsSettings({ bucket: 'b-1', endpoint: 'https://gcs.example/', env: { STORAGE_EMULATOR_HOST: 'localhost:4443' } }).endpoint).toBe('https://gcs.example');
    expect(resolveGcsSettings({ bucket: 'b-1', env: {} })).toMatchObject({ endpoint: undefined, credentials: 'adc' });
    expect(resolveGcsSettings({ bucket: 'b-1', keyFilename: '/k.json', env: {} }).credentials).toBe('key-file');
  });

  it('normalizes endpoints', () => {
    expect(normalizeEndpoint('127.0.0.1:4443')).toBe('http://127.0.0.1:4443');
    expect(normalizeEndpoint('gcs.example.com')).toBe('https://gcs.example.com');
    expect(normalizeEndpoint('http://h:1//')).toBe('http://h:1');
  });

  it('refuses an invalid bucket name', () => {
    expect(() => resolveGcsSettings({ bucket: 'Bad_Bucket!' })).toThrow(UsageError);
  });
});

describe('layout and timestamps', () => {
  it('places files as Litestream v0.5 does', () => {
    const layout = new GcsLayout('/db/');
    expect(layout.ltxKey({ level: 9, minTXID: 1, maxTXID: 255 })).toBe('db/ltx/9/0000000000000001-00000000000000ff.ltx');
    expect(new GcsLayout('').ltxKey({ level: 0, minTXID: 2, maxTXID: 2 })).toBe('ltx/0/0000000000000002-0000000000000002.ltx');
    expect(layout.seekOffset(0, 16)).toBe('db/ltx/0/0000000000000010');
    expect(layout.parseLtxKey(0, 'db/ltx/0/sub/0000000000000001-0000000000000001.ltx')).toBeUndefined();
  });

  it("formats timestamps as Go's RFC3339Nano and parses them back", () => {
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.120Z'))).toBe('2024-05-06T07:08:09.12Z');
    expect(formatLtxTimestamp(new Date('2024-05-06T07:08:09.000Z'))).toBe('2024-05-06T07:08:09Z');
    expect(parseLtxTimestamp('2024-05-06T07:08:09.123456789Z')?.toISOString()).toBe('2024-05-06T07:08:09.123Z');
    expect(parseLtxTimestamp('2024-05-06T09:08:09+02:00')?.toISOString()).toBe('2024-05-06T07:08:09.000Z');
    expect(parseLtxTimestamp('yesterday')).toBeUndefined();
  });
});
