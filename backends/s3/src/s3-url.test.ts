import { describe, expect, it } from 'vitest';
import { UsageError } from '@litestream-ts/core';
import { parseS3Url } from './s3-url.ts';

const options = (url: string) => parseS3Url(url).options;

describe('parseS3Url', () => {
  it('reads bucket and path from s3://bucket/path', () => {
    expect(options('s3://backups/db/app')).toEqual({ bucket: 'backups', path: 'db/app' });
  });

  it('allows an empty path (the bucket root) and cleans slashes and dot segments', () => {
    expect(options('s3://backups')).toEqual({ bucket: 'backups', path: '' });
    expect(options('s3://backups/')).toEqual({ bucket: 'backups', path: '' });
    expect(options('s3://backups//a/./b/../c/')).toEqual({ bucket: 'backups', path: 'a/c' });
  });

  it('decodes percent-escapes in the path and keeps the case of the bucket', () => {
    expect(options('s3://My.Bucket/a%20b/%C3%A9t%C3%A9')).toEqual({ bucket: 'My.Bucket', path: 'a b/été' });
  });

  it('takes the settings of the query string, in kebab-case and camelCase', () => {
    expect(
      options('s3://b/p?endpoint=http://127.0.0.1:9000&region=eu-west-3&force-path-style=false&sign-payload=0&skip-verify=yes&part-size=10MB&concurrency=3&storage-class=STANDARD_IA&sse-kms-key-id=alias/x'),
    ).toEqual({
      bucket: 'b',
      path: 'p',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-3',
      forcePathStyle: false,
      signPayload: false,
      skipVerify: true,
      partSize: '10MB',
      concurrency: '3',
      storageClass: 'STANDARD_IA',
      sseKmsKeyId: 'alias/x',
    });
    expect(options('s3://b/p?forcePathStyle=true&signPayload=true&skipVerify=false&partSize=5242880&storageClass=GLACIER_IR&requireContentMD5=false')).toMatchObject({
      forcePathStyle: true,
      signPayload: true,
      skipVerify: false,
      partSize: '5242880',
      storageClass: 'GLACIER_IR',
      requireContentMd5: false,
    });
  });

  it('lists unknown query parameters instead of failing', () => {
    expect(parseS3Url('s3://b/p?colour=red&region=x').ignored).toEqual(['colour']);
  });

  it('refuses a boolean it cannot read', () => {
    expect(() => parseS3Url('s3://b/p?force-path-style=maybe')).toThrow(/force-path-style must be true or false/);
  });

  it('accepts a URL object as the registry passes it', () => {
    expect(parseS3Url(new URL('s3://backups/db?region=us-west-2')).options).toEqual({ bucket: 'backups', path: 'db', region: 'us-west-2' });
  });

  describe('access point ARNs', () => {
    it('takes the ARN as the bucket and the rest as the path', () => {
      expect(options('s3://arn:aws:s3:us-east-2:123456789012:accesspoint/my-access-point/backups/prod')).toEqual({
        bucket: 'arn:aws:s3:us-east-2:123456789012:accesspoint/my-access-point',
        path: 'backups/prod',
      });
    });

    it('allows no path, and a query', () => {
      expect(options('s3://arn:aws:s3:us-east-2:123456789012:accesspoint/ap?region=us-west-1')).toEqual({
        bucket: 'arn:aws:s3:us-east-2:123456789012:accesspoint/ap',
        path: '',
        region: 'us-west-1',
      });
    });

    it('refuses an ARN that is not an access point', () => {
      expect(() => parseS3Url('s3://arn:aws:s3:::my-bucket/x')).toThrow(UsageError);
    });
  });

  describe('provider hosts in the URL', () => {
    it.each([
      ['s3://mybucket.s3.us-west-000.backblazeb2.com/db', { bucket: 'mybucket', endpoint: 'https://s3.us-west-000.backblazeb2.com', region: 'us-west-000' }],
      ['s3://space.nyc3.digitaloceanspaces.com/db', { bucket: 'space', endpoint: 'https://nyc3.digitaloceanspaces.com', region: 'nyc3' }],
      ['s3://b.s3.fr-par.scw.cloud/db', { bucket: 'b', endpoint: 'https://s3.fr-par.scw.cloud', region: 'fr-par' }],
      ['s3://b.s3.filebase.com/db', { bucket: 'b', endpoint: 'https://s3.filebase.com' }],
      ['s3://b.us-east-1.linodeobjects.com/db', { bucket: 'b', endpoint: 'https://us-east-1.linodeobjects.com', region: 'us-east-1' }],
      ['s3://b.s3.eu-central-1.wasabisys.com/db', { bucket: 'b', endpoint: 'https://s3.eu-central-1.wasabisys.com', region: 'eu-central-1' }],
      ['s3://b.ewr1.vultrobjects.com/db', { bucket: 'b', endpoint: 'https://ewr1.vultrobjects.com', region: 'ewr1' }],
      ['s3://b.fly.storage.tigris.dev/db', { bucket: 'b', endpoint: 'https://fly.storage.tigris.dev' }],
      [
        's3://b.0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com/db',
        { bucket: 'b', endpoint: 'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com' },
      ],
      ['s3://mybucket.localhost:9000/db', { bucket: 'mybucket', endpoint: 'http://localhost:9000' }],
      ['s3://my.bucket.s3.us-west-2.amazonaws.com/db', { bucket: 'my.bucket', region: 'us-west-2' }],
      ['s3://b.s3.amazonaws.com/db', { bucket: 'b' }],
    ])('%s', (url, expected) => {
      expect(options(url)).toEqual({ path: 'db', ...expected });
    });

    it('lets ?endpoint= and ?region= override what the host implies', () => {
      expect(options('s3://b.s3.us-west-000.backblazeb2.com/db?endpoint=https://s3.eu-central-003.backblazeb2.com&region=eu-central-003')).toEqual({
        bucket: 'b',
        path: 'db',
        endpoint: 'https://s3.eu-central-003.backblazeb2.com',
        region: 'eu-central-003',
      });
    });

    it('does not split an IP address into a bucket', () => {
      expect(options('s3://127.0.0.1:9000/db').bucket).toBe('127.0.0.1:9000');
    });
  });

  it('refuses URLs without a bucket, with credentials, or of another scheme', () => {
    expect(() => parseS3Url('s3:///path')).toThrow(/has no bucket/);
    expect(() => parseS3Url('s3://key:secret@bucket/path')).toThrow(/take no credentials/);
    expect(() => parseS3Url('gs://bucket/path')).toThrow(UsageError);
  });
});
