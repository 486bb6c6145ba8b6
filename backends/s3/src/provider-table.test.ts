import { describe, expect, it } from 'vitest';
import { PROVIDER_PRESETS, detectProvider, isAmazonEndpoint } from './providers/provider-table.ts';
import { resolveS3Settings } from './s3-settings.ts';

describe('provider detection from the endpoint host', () => {
  it.each([
    ['s3.us-west-000.backblazeb2.com', 'backblaze-b2', 'us-west-000'],
    ['https://s3.eu-central-003.backblazeb2.com', 'backblaze-b2', 'eu-central-003'],
    ['s3.filebase.com', 'filebase', undefined],
    ['minio.example.com', 'minio', undefined],
    ['https://s3.minio.internal', 'minio', undefined],
    ['http://localhost:9000', 'minio', undefined],
    ['10.0.0.5:9000', 'minio', undefined],
    ['nyc3.digitaloceanspaces.com', 'digitalocean-spaces', 'nyc3'],
    ['https://fra1.digitaloceanspaces.com', 'digitalocean-spaces', 'fra1'],
    ['s3.fr-par.scw.cloud', 'scaleway', 'fr-par'],
    ['0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com', 'cloudflare-r2', undefined],
    ['https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com', 'cloudflare-r2', undefined],
    ['fly.storage.tigris.dev', 'tigris', undefined],
    ['t3.storage.dev', 'tigris', undefined],
    ['s3.us-east-2.wasabisys.com', 'wasabi', 'us-east-2'],
    ['us-southeast-1.linodeobjects.com', 'linode', 'us-southeast-1'],
    ['mynamespace.compat.objectstorage.us-ashburn-1.oraclecloud.com', 'oci', 'us-ashburn-1'],
    ['ewr1.vultrobjects.com', 'vultr', 'ewr1'],
    ['s3.us-west-2.amazonaws.com', 'aws', undefined],
  ])('%s is %s', (endpoint, id, region) => {
    const detected = detectProvider(endpoint);
    expect(detected?.preset.id).toBe(id);
    expect(detected?.region).toBe(region);
  });

  it('recognises nothing in an unknown host without a port', () => {
    expect(detectProvider('storage.example.net')).toBeUndefined();
    expect(detectProvider('https://objects.example.org')).toBeUndefined();
  });

  it('has one module per provider, each with a note for the README table', () => {
    const ids = PROVIDER_PRESETS.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const preset of PROVIDER_PRESETS) expect(preset.note.length).toBeGreaterThan(10);
    expect(ids.at(-1)).toBe('minio');
  });

  it('treats only amazonaws.com endpoints (or none) as Amazon', () => {
    expect(isAmazonEndpoint(undefined)).toBe(true);
    expect(isAmazonEndpoint('https://s3.eu-west-1.amazonaws.com')).toBe(true);
    expect(isAmazonEndpoint('https://s3.cn-north-1.amazonaws.com.cn')).toBe(true);
    expect(isAmazonEndpoint('http://127.0.0.1:9000')).toBe(false);
    expect(isAmazonEndpoint('https://amazonaws.com.evil.example')).toBe(false);
  });
});

describe('presets applied by resolveS3Settings', () => {
  const base = { bucket: 'b' };

  it('Backblaze B2: path-style, signed payload, region from the host, no aws-chunked', () => {
    const s = resolveS3Settings({ ...base, endpoint: 's3.us-west-004.backblazeb2.com' });
    expect(s).toMatchObject({ provider: expect.objectContaining({ id: 'backblaze-b2' }), endpoint: 'https://s3.us-west-004.backblazeb2.com', region: 'us-west-004', forcePathStyle: true, signPayload: true, awsChecksums: false });
  });

  it('MinIO: path-style and signed payload over plain HTTP to a local address', () => {
    expect(resolveS3Settings({ ...base, endpoint: '127.0.0.1:9000' })).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', forcePathStyle: true, signPayload: true });
  });

  it('Cloudflare R2: region auto and two parts at a time', () => {
    expect(resolveS3Settings({ ...base, endpoint: 'abc.r2.cloudflarestorage.com' })).toMatchObject({ region: 'auto', concurrency: 2, signPayload: true });
  });

  it('Tigris: region auto, X-Tigris-Consistent and no Content-MD5', () => {
    expect(resolveS3Settings({ ...base, endpoint: 'fly.storage.tigris.dev' })).toMatchObject({
      region: 'auto',
      headers: { 'x-tigris-consistent': 'true' },
      requireContentMd5: false,
      signPayload: true,
    });
  });

  it('Filebase and OCI: path-style', () => {
    expect(resolveS3Settings({ ...base, endpoint: 's3.filebase.com' })).toMatchObject({ forcePathStyle: true, region: 'us-east-1' });
    expect(resolveS3Settings({ ...base, endpoint: 'ns.compat.objectstorage.eu-frankfurt-1.oraclecloud.com' })).toMatchObject({ forcePathStyle: true, region: 'eu-frankfurt-1' });
  });

  it('DigitalOcean, Scaleway, Wasabi, Linode, Vultr: region from the host', () => {
    expect(resolveS3Settings({ ...base, endpoint: 'sgp1.digitaloceanspaces.com' }).region).toBe('sgp1');
    expect(resolveS3Settings({ ...base, endpoint: 's3.nl-ams.scw.cloud' }).region).toBe('nl-ams');
    expect(resolveS3Settings({ ...base, endpoint: 's3.ap-northeast-1.wasabisys.com' }).region).toBe('ap-northeast-1');
    expect(resolveS3Settings({ ...base, endpoint: 'eu-central-1.linodeobjects.com' }).region).toBe('eu-central-1');
    expect(resolveS3Settings({ ...base, endpoint: 'lax1.vultrobjects.com' }).region).toBe('lax1');
  });

  it('explicit settings win over every preset', () => {
    const s = resolveS3Settings({
      ...base,
      endpoint: 'abc.r2.cloudflarestorage.com',
      region: 'us-east-1',
      concurrency: 8,
      signPayload: false,
      forcePathStyle: false,
      requireContentMd5: true,
    });
    expect(s).toMatchObject({ region: 'us-east-1', concurrency: 8, signPayload: false, forcePathStyle: false, requireContentMd5: true });
    expect(resolveS3Settings({ ...base, endpoint: 's3.us-west-004.backblazeb2.com', forcePathStyle: false }).forcePathStyle).toBe(false);
    expect(resolveS3Settings({ ...base, endpoint: 'fly.storage.tigris.dev', requireContentMd5: true }).requireContentMd5).toBe(true);
  });

  it('Amazon S3 itself: SDK checksums on, virtual hosts, and the region followed when it was a guess', () => {
    expect(resolveS3Settings({ ...base, env: {} })).toMatchObject({ endpoint: undefined, region: 'us-east-1', forcePathStyle: false, awsChecksums: true, followRegionRedirects: true });
    expect(resolveS3Settings({ ...base, env: { AWS_REGION: 'eu-west-3' } }).region).toBe('eu-west-3');
    expect(resolveS3Settings({ ...base, region: 'ap-south-1', env: { AWS_REGION: 'eu-west-3' } })).toMatchObject({ region: 'ap-south-1', followRegionRedirects: false });
  });

  it('an unknown endpoint still gets no aws-chunked bodies, path-style and HTTPS', () => {
    expect(resolveS3Settings({ ...base, endpoint: 'storage.example.net' })).toMatchObject({ endpoint: 'https://storage.example.net', forcePathStyle: true, awsChecksums: false, provider: undefined });
  });

  it('takes the region of an access point ARN unless one is set', () => {
    const arn = 'arn:aws:s3:us-east-2:123456789012:accesspoint/my-ap';
    expect(resolveS3Settings({ bucket: arn })).toMatchObject({ region: 'us-east-2', accessPoint: true, followRegionRedirects: false });
    expect(resolveS3Settings({ bucket: arn, region: 'us-west-1' }).region).toBe('us-west-1');
    expect(() => resolveS3Settings({ bucket: 'arn:aws:s3:::plain-bucket' })).toThrow(/access point ARN/);
  });
});
