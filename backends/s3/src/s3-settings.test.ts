import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '@litestream-ts/core';
import { resolveS3Settings, withScheme } from './s3-settings.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('resolveS3Settings', () => {
  it('needs a bucket', () => {
    expect(() => resolveS3Settings({ bucket: '' })).toThrow(/needs a bucket/);
  });

  it('defaults to 5 MiB parts, 5 at a time, signed payloads and Content-MD5 on deletes', () => {
    expect(resolveS3Settings({ bucket: 'b', env: {} })).toMatchObject({ partSize: 5 * 1024 * 1024, concurrency: 5, signPayload: true, requireContentMd5: true, skipVerify: false, path: '' });
  });

  it('cleans the path', () => {
    expect(resolveS3Settings({ bucket: 'b', path: '/db//app/' }).path).toBe('db/app');
  });

  it('checks part size and concurrency', () => {
    expect(() => resolveS3Settings({ bucket: 'b', partSize: '1MB' })).toThrow(UsageError);
    expect(() => resolveS3Settings({ bucket: 'b', concurrency: 0 })).toThrow(UsageError);
    expect(resolveS3Settings({ bucket: 'b', partSize: '64MiB', concurrency: '3' })).toMatchObject({ partSize: 64 * 1024 * 1024, concurrency: 3 });
  });

  describe('server-side encryption', () => {
    it('SSE-C: AES256, the key and its MD5 on writes and reads', () => {
      const { encryption } = resolveS3Settings({ bucket: 'b', sseCustomerKey: KEY });
      const md5 = createHash('md5').update(Buffer.alloc(32, 7)).digest('base64');
      expect(encryption.write).toEqual({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: KEY, SSECustomerKeyMD5: md5 });
      expect(encryption.read).toEqual(encryption.write);
    });

    it('SSE-KMS: the key id on writes only', () => {
      expect(resolveS3Settings({ bucket: 'b', sseKmsKeyId: 'alias/litestream' }).encryption).toEqual({
        write: { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/litestream' },
        read: {},
      });
    });

    it('refuses both at once, a wrong key length or algorithm, and an SSE-C key over plain HTTP to a public host', () => {
      expect(() => resolveS3Settings({ bucket: 'b', sseCustomerKey: KEY, sseKmsKeyId: 'k' })).toThrow(/exclude each other/);
      expect(() => resolveS3Settings({ bucket: 'b', sseCustomerKey: Buffer.alloc(16).toString('base64') })).toThrow(/32 bytes/);
      expect(() => resolveS3Settings({ bucket: 'b', sseCustomerKey: KEY, sseCustomerAlgorithm: 'AES128' })).toThrow(/AES256/);
      expect(() => resolveS3Settings({ bucket: 'b', sseCustomerKey: KEY, endpoint: 'http://storage.example.net' })).toThrow(/HTTPS/);
      expect(resolveS3Settings({ bucket: 'b', sseCustomerKey: KEY, endpoint: 'http://192.168.1.2:9000' }).encryption.write.SSECustomerKey).toBe(KEY);
    });

    it('never repeats the key in an error', () => {
      const secret = Buffer.alloc(31, 9).toString('base64');
      expect(() => resolveS3Settings({ bucket: 'b', sseCustomerKey: secret })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(secret) }));
    });
  });
});

describe('withScheme', () => {
  it('uses HTTP for local and private hosts, HTTPS for the rest, and keeps a given scheme', () => {
    expect(withScheme('localhost:9000')).toBe('http://localhost:9000');
    expect(withScheme('127.0.0.1:9000')).toBe('http://127.0.0.1:9000');
    expect(withScheme('10.1.2.3')).toBe('http://10.1.2.3');
    expect(withScheme('minio.local:9000')).toBe('http://minio.local:9000');
    expect(withScheme('s3.us-west-004.backblazeb2.com')).toBe('https://s3.us-west-004.backblazeb2.com');
    expect(withScheme('172.32.0.1')).toBe('https://172.32.0.1');
    expect(withScheme('http://minio.example.com:9000/')).toBe('http://minio.example.com:9000');
    expect(() => withScheme('ftp://example.com')).toThrow(/http:\/\/ or https:\/\//);
  });
});
