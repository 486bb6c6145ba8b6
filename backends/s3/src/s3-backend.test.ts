import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendRegistry, UsageError } from '@litestream-ts/core';
import { registerS3Backend, s3Backend } from './s3-backend.ts';
import { s3OptionsFromConfig } from './s3-config.ts';
import { S3ReplicaClient } from './s3-replica-client.ts';

const scratch = await mkdtemp(join(tmpdir(), 'litestream-s3-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));
const KEY = Buffer.alloc(32, 3).toString('base64');

describe('s3OptionsFromConfig', () => {
  it('reads the expanded fields, with sizes already in bytes or as text', () => {
    const { options } = s3OptionsFromConfig({
      type: 's3',
      bucket: 'mybucket',
      path: 'db',
      region: 'us-west-2',
      endpoint: 's3.us-west-000.backblazeb2.com',
      'access-key-id': 'AKIA',
      'secret-access-key': 'secret',
      'force-path-style': 'yes',
      'sign-payload': false,
      'require-content-md5': 'false',
      'skip-verify': true,
      'part-size': 10_485_760,
      concurrency: 10,
      'storage-class': 'STANDARD_IA',
      'sse-kms-key-id': 'alias/x',
      'sync-interval': '1s',
    });
    expect(options).toEqual({
      bucket: 'mybucket',
      path: 'db',
      region: 'us-west-2',
      endpoint: 's3.us-west-000.backblazeb2.com',
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      signPayload: false,
      requireContentMd5: false,
      skipVerify: true,
      partSize: 10_485_760,
      concurrency: 10,
      storageClass: 'STANDARD_IA',
      sseKmsKeyId: 'alias/x',
    });
  });

  it('lets entry settings win over the URL, and refuses url with bucket or path', () => {
    expect(s3OptionsFromConfig({ url: 's3://b/p?region=eu-west-1&concurrency=2', region: 'us-east-2' }).options).toEqual({ bucket: 'b', path: 'p', region: 'us-east-2', concurrency: '2' });
    expect(() => s3OptionsFromConfig({ url: 's3://b/p', bucket: 'other' })).toThrow(/both "url" and "bucket"/);
    expect(() => s3OptionsFromConfig({ url: 's3://b/p', path: 'q' })).toThrow(/both "url" and "path"/);
  });

  it('fills unset keys from globals (credentials, endpoint, …) but never bucket or path', () => {
    const { options } = s3OptionsFromConfig(
      { url: 's3://b/p', 'access-key-id': 'LOCAL', 'secret-access-key': 'local-secret' },
      { 'access-key-id': 'GLOBAL', 'secret-access-key': 'global-secret', region: 'eu-west-3', bucket: 'global-bucket', path: 'global-path' },
    );
    expect(options).toEqual({ bucket: 'b', path: 'p', accessKeyId: 'LOCAL', secretAccessKey: 'local-secret', region: 'eu-west-3' });
  });

  it('reads an SSE-C key from sse-customer-key-path, and refuses both forms at once', async () => {
    const file = join(scratch, 'sse.key');
    await writeFile(file, `${KEY}\n`);
    expect(s3OptionsFromConfig({ bucket: 'b', 'sse-customer-key-path': file }).options.sseCustomerKey).toBe(KEY);
    expect(() => s3OptionsFromConfig({ bucket: 'b', 'sse-customer-key-path': file, 'sse-customer-key': KEY })).toThrow(/only one/);
    expect(() => s3OptionsFromConfig({ bucket: 'b', 'sse-customer-key-path': join(scratch, 'missing') })).toThrow(/cannot read sse-customer-key-path/);
    // A replica's own key replaces a global one given in the other form.
    expect(s3OptionsFromConfig({ bucket: 'b', 'sse-customer-key-path': file }, { 'sse-customer-key': 'GLOBALKEY' }).options.sseCustomerKey).toBe(KEY);
  });

  it('refuses a value of the wrong shape', () => {
    expect(() => s3OptionsFromConfig({ bucket: ['a'] })).toThrow(UsageError);
    expect(() => s3OptionsFromConfig({ bucket: 'b', 'skip-verify': 'sometimes' })).toThrow(/skip-verify must be true or false/);
  });
});

describe('s3Backend plugin', () => {
  const registry = registerS3Backend(new BackendRegistry());

  it('registers type s3 for s3:// URLs and declares Litestream’s S3 keys', () => {
    expect(registry.forType('s3')).toBe(s3Backend);
    expect(s3Backend.schemes).toEqual(['s3', 'oss']);
    for (const key of ['bucket', 'path', 'region', 'endpoint', 'access-key-id', 'secret-access-key', 'force-path-style', 'skip-verify', 'sign-payload', 'require-content-md5', 'part-size', 'concurrency', 'storage-class', 'sse-customer-algorithm', 'sse-customer-key', 'sse-customer-key-path', 'sse-kms-key-id']) {
      expect(s3Backend.configKeys).toContain(key);
    }
  });

  it('builds a client from a URL, with globals filling what the URL leaves open', async () => {
    const client = (await registry.fromURL('s3://mybucket.s3.us-west-000.backblazeb2.com/db?part-size=10MiB', {
      globals: { 'access-key-id': 'GLOBAL', 'secret-access-key': 'global-secret' },
    })) as S3ReplicaClient;
    expect(client).toBeInstanceOf(S3ReplicaClient);
    expect(client.settings).toMatchObject({ bucket: 'mybucket', path: 'db', endpoint: 'https://s3.us-west-000.backblazeb2.com', region: 'us-west-000', forcePathStyle: true, partSize: 10 * 1024 * 1024 });
    expect(client.settings.provider?.name).toBe('Backblaze B2');
    expect(client.credentialSource).toBe('config');
    await client.close();
  });

  it('builds a client from a config entry, an access point URL included', async () => {
    const client = (await registry.fromConfig({ type: 's3', url: 's3://arn:aws:s3:us-east-2:123456789012:accesspoint/ap/backups' })) as S3ReplicaClient;
    expect(client.settings).toMatchObject({ bucket: 'arn:aws:s3:us-east-2:123456789012:accesspoint/ap', path: 'backups', region: 'us-east-2', accessPoint: true });
    expect(client.layout.ltxKey({ level: 9, minTXID: 1, maxTXID: 255 })).toBe('backups/0009/0000000000000001-00000000000000ff.ltx');
    await client.close();
  });

  it('warns through the context when TLS verification is off, and about unknown query parameters', async () => {
    const warnings: string[] = [];
    const client = await s3Backend.fromURL('s3://b/p?endpoint=https://minio.example.com:9000&skip-verify=true&colour=red', { warn: (m) => warnings.push(m) });
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/unknown query parameter\(s\) "colour"/);
    expect(warnings[1]).toMatch(/skip-verify is on, so TLS certificates are not checked/);
    await client.close();
  });

  it('says what to set when the bucket is missing', async () => {
    await expect(registry.fromConfig({ type: 's3', path: 'db' })).rejects.toThrow(/needs a bucket/);
  });
});
