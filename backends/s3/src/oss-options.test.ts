import { describe, expect, it } from 'vitest';
import { BackendRegistry } from '@litestream-ts/core';
import lazyS3Backend from './plugin.ts';
import { applyOssDefaults, ossOptionsFromConfig, parseOssUrl } from './oss-options.ts';
import { s3Backend } from './s3-backend.ts';
import type { S3ReplicaClient } from './s3-replica-client.ts';
import { checkS3Config, optionsFromConfig } from './s3-location.ts';
import { resolveS3Settings } from './s3-settings.ts';

const settingsOfUrl = (url: string, env = {}) => resolveS3Settings(applyOssDefaults(parseOssUrl(url).options, env));

describe('oss:// URLs (Litestream v0.5 form) → S3 settings', () => {
  it('oss://bucket/path: region cn-hangzhou, the S3-compatible endpoint, virtual-hosted style', () => {
    const settings = settingsOfUrl('oss://my-bucket/db/app');
    expect(settings).toMatchObject({ bucket: 'my-bucket', path: 'db/app', region: 'cn-hangzhou', endpoint: 'https://s3.oss-cn-hangzhou.aliyuncs.com', forcePathStyle: false, signPayload: true, requireContentMd5: true });
    expect(settings.provider?.id).toBe('alibaba-oss');
    // Never the SDK's aws-chunked bodies or trailing checksums: OSS is not Amazon.
    expect(settings.awsChecksums).toBe(false);
  });

  it('takes bucket and region from bucket.oss-REGION.aliyuncs.com, internal hosts included', () => {
    expect(settingsOfUrl('oss://b.oss-cn-beijing.aliyuncs.com/x')).toMatchObject({ bucket: 'b', path: 'x', region: 'cn-beijing', endpoint: 'https://s3.oss-cn-beijing.aliyuncs.com' });
    expect(settingsOfUrl('oss://b.oss-ap-southeast-1-internal.aliyuncs.com/x')).toMatchObject({ bucket: 'b', region: 'ap-southeast-1', endpoint: 'https://s3.oss-ap-southeast-1-internal.aliyuncs.com' });
  });

  it('lets query settings override: endpoint, region, force-path-style', () => {
    expect(settingsOfUrl('oss://b/x?region=eu-central-1')).toMatchObject({ region: 'eu-central-1', endpoint: 'https://s3.oss-eu-central-1.aliyuncs.com' });
    expect(settingsOfUrl('oss://b/x?endpoint=http://127.0.0.1:9000&force-path-style=true')).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, region: 'cn-hangzhou' });
    // An endpoint override alone keeps OSS's virtual-hosted style.
    expect(settingsOfUrl('oss://b/x?endpoint=https://oss.example.com').forcePathStyle).toBe(false);
  });

  it('refuses other schemes and access point ARNs', () => {
    expect(() => parseOssUrl('s3://b/x')).toThrow(/not an oss:\/\/ URL/);
    expect(() => parseOssUrl('oss://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/x')).toThrow(/oss:\/\/BUCKET\/PATH/);
  });
});

describe('type: oss config entries → S3 settings', () => {
  it("reads Litestream's keys; the region names the endpoint", () => {
    const { options } = ossOptionsFromConfig({ type: 'oss', bucket: 'b', path: 'db', region: 'cn-shanghai', 'access-key-id': 'id', 'secret-access-key': 'secret', 'part-size': '10MB' }, {}, {});
    expect(resolveS3Settings(options)).toMatchObject({ bucket: 'b', path: 'db', region: 'cn-shanghai', endpoint: 'https://s3.oss-cn-shanghai.aliyuncs.com', forcePathStyle: false, partSize: 10 * 1000 * 1000 });
    expect(options).toMatchObject({ type: 'oss', accessKeyId: 'id', secretAccessKey: 'secret' });
  });

  it('reads url: oss://… and refuses url with bucket, as Litestream', () => {
    expect(resolveS3Settings(ossOptionsFromConfig({ url: 'oss://b.oss-cn-qingdao.aliyuncs.com/p' }, {}, {}).options)).toMatchObject({ bucket: 'b', region: 'cn-qingdao' });
    expect(() => ossOptionsFromConfig({ url: 'oss://b/p', bucket: 'c' }, {}, {})).toThrow(/both "url" and "bucket"/);
  });

  it("falls back to the OSS SDK's variables, after the config's keys and LITESTREAM_*", () => {
    const env = { OSS_ACCESS_KEY_ID: 'oss-id', OSS_ACCESS_KEY_SECRET: 'oss-secret' };
    expect(ossOptionsFromConfig({ type: 'oss', bucket: 'b' }, {}, env).options).toMatchObject({ accessKeyId: 'oss-id', secretAccessKey: 'oss-secret' });
    expect(ossOptionsFromConfig({ type: 'oss', bucket: 'b', 'access-key-id': 'a', 'secret-access-key': 's' }, {}, env).options).toMatchObject({ accessKeyId: 'a', secretAccessKey: 's' });
    expect(ossOptionsFromConfig({ type: 'oss', bucket: 'b' }, {}, { ...env, LITESTREAM_ACCESS_KEY_ID: 'l', LITESTREAM_SECRET_ACCESS_KEY: 'm' }).options.accessKeyId).toBeUndefined();
  });
});

describe('the s3 plugin serves oss', () => {
  it('routes oss:// and type: oss to the s3 backend, without loading it', () => {
    const registry = new BackendRegistry().registerLazy(lazyS3Backend);
    expect(registry.resolve('oss://b/p').plugin.type).toBe('s3');
    expect(registry.forType('oss').type).toBe('s3');
    expect(registry.list().map((b) => b.type)).toEqual(['s3']);
    expect(registry.isLoaded('s3')).toBe(false);
  });

  it('builds an oss client from a URL and from a config entry', async () => {
    const fromUrl = s3Backend.fromURL('oss://b/p?region=cn-beijing') as S3ReplicaClient;
    expect(fromUrl.type).toBe('oss');
    expect(fromUrl.settings.endpoint).toBe('https://s3.oss-cn-beijing.aliyuncs.com');
    const fromConfig = (await new BackendRegistry().register(s3Backend).fromConfig({ type: 'oss', bucket: 'b', path: 'p' })) as S3ReplicaClient;
    expect(fromConfig.type).toBe('oss');
    expect(fromConfig.ltxFileLocation({ level: 1, minTXID: 1, maxTXID: 2 })).toContain('p/0001/0000000000000001-0000000000000002.ltx');
    await Promise.all([fromUrl.close(), fromConfig.close()]);
  });

  it('takes an oss:// URL as OSS even when the host filled in type: s3 (the CLI does, from the scheme)', () => {
    expect(optionsFromConfig({ type: 's3', url: 'oss://b/p' }).options.type).toBe('oss');
    expect(() => checkS3Config({ type: 's3', url: 'oss://b/p' })).not.toThrow();
  });

  it('leaves s3:// exactly as before', () => {
    const client = s3Backend.fromURL('s3://b/p') as S3ReplicaClient;
    expect(client.type).toBe('s3');
    expect(client.settings.endpoint).toBeUndefined();
  });
});

describe('what an oss client sends (captured before it leaves the process)', () => {
  /** The first signed request of `run`, stopped at the HTTP handler. */
  async function firstRequest(url: string, run: (client: S3ReplicaClient) => Promise<unknown>): Promise<{ protocol: string; hostname: string; path: string; headers: Record<string, string> }> {
    const client = s3Backend.fromURL(url) as S3ReplicaClient;
    let captured: { protocol: string; hostname: string; path: string; headers: Record<string, string> } | undefined;
    (client.s3.config as { requestHandler: unknown }).requestHandler = {
      handle: async (request: { protocol: string; hostname: string; path: string; headers: Record<string, string> }) => {
        captured ??= { protocol: request.protocol, hostname: request.hostname, path: request.path, headers: { ...request.headers } };
        throw Object.assign(new Error('captured'), { name: 'CapturedRequest', $metadata: {} });
      },
    };
    await run(client).catch(() => {});
    await client.close();
    if (!captured) throw new Error('no request was sent');
    return captured;
  }

  it('addresses the bucket virtual-hosted on s3.oss-REGION.aliyuncs.com and signs for the plain region ID', async () => {
    process.env.LITESTREAM_ACCESS_KEY_ID = 'LTAIEXAMPLE';
    process.env.LITESTREAM_SECRET_ACCESS_KEY = 'example-secret';
    try {
      const get = await firstRequest('oss://my-bucket.oss-cn-shenzhen.aliyuncs.com/db', (c) => c.readObject('lock.json'));
      expect(get).toMatchObject({ protocol: 'https:', hostname: 'my-bucket.s3.oss-cn-shenzhen.aliyuncs.com', path: '/db/lock.json' });
      expect(get.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=LTAIEXAMPLE\/\d{8}\/cn-shenzhen\/s3\/aws4_request,/);
      const put = await firstRequest('oss://my-bucket/db', (c) => c.writeLtxFile({ level: 0, minTXID: 1, maxTXID: 1 }, new Uint8Array(100)));
      expect(put).toMatchObject({ hostname: 'my-bucket.s3.oss-cn-hangzhou.aliyuncs.com', path: '/db/0000/0000000000000001-0000000000000001.ltx' });
      // A plain body with its length and a signed payload hash: no aws-chunked framing or trailers.
      expect(put.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
      expect(put.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(put.headers['x-amz-trailer']).toBeUndefined();
    } finally {
      delete process.env.LITESTREAM_ACCESS_KEY_ID;
      delete process.env.LITESTREAM_SECRET_ACCESS_KEY;
    }
  });
});
