import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  findMinioBinary,
  dockerAvailable,
  s3KindFromEnv,
  startFauxqs,
  startMinio,
  startRecordingProxy,
  startS3,
  startS3rver,
  tcpAccepts,
  type S3Service,
} from './index.ts';

function clientFor(s3: S3Service, checksums: 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' = 'WHEN_REQUIRED'): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

describe.each([
  { name: 'fauxqs', start: startFauxqs },
  { name: 's3rver', start: startS3rver },
])('$name fixture', ({ name, start }) => {
  let s3: S3Service;
  let client: S3Client;
  const bucket = 'lts-test';

  beforeAll(async () => {
    s3 = await start();
    client = clientFor(s3);
    await s3.createBucket(bucket);
  });
  afterAll(async () => {
    client?.destroy();
    await s3?.stop();
  });

  it('answers on a loopback endpoint and says what it cannot do', () => {
    expect(s3.kind).toBe(name);
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s3.region).toBe('us-east-1');
    expect(s3.enforcesConditionalWrites).toBe(false);
  });

  it('round-trips an object through PUT, GET and LIST, and records the PUT with its headers', async () => {
    s3.clearRequests();
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'db/0000/0000000000000001-0000000000000001.ltx', Body: 'hello, replica', Metadata: { 'litestream-timestamp': '2026-01-02T03:04:05Z' } }),
    );
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'db/0000/0000000000000001-0000000000000001.ltx' }));
    expect(await got.Body!.transformToString()).toBe('hello, replica');
    expect(got.Metadata?.['litestream-timestamp']).toBe('2026-01-02T03:04:05Z');
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'db/0000/' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['db/0000/0000000000000001-0000000000000001.ltx']);

    const requests = s3.requests();
    expect(requests.map((r) => r.method)).toEqual(['PUT', 'GET', 'GET']);
    const put = requests[0]!;
    expect(put.path).toBe(`/${bucket}/db/0000/0000000000000001-0000000000000001.ltx`);
    expect(put.status).toBe(200);
    expect(put.headers['x-amz-meta-litestream-timestamp']).toBe('2026-01-02T03:04:05Z');
    expect(put.headers['content-length']).toBe(String('hello, replica'.length));
    expect(put.headers['x-amz-content-sha256']).toBeDefined();
    expect(put.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=/);
    expect(put.headers['content-encoding']).toBeUndefined();
    expect(put.headers['x-amz-trailer']).toBeUndefined();
    expect(requests[2]!.query).toMatchObject({ 'list-type': '2', prefix: 'db/0000/' });
  });

  it('passes conditional headers through but the server does not enforce them', async () => {
    s3.clearRequests();
    const key = 'lock.json';
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"token":"a"}', IfNoneMatch: '*' }));
    // A real S3 (or MinIO) answers 412 here; this server stores the second write anyway.
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"token":"b"}', IfNoneMatch: '*' }));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await got.Body!.transformToString()).toBe('{"token":"b"}');
    const puts = s3.requests().filter((r) => r.method === 'PUT');
    expect(puts.map((r) => [r.headers['if-none-match'], r.status])).toEqual([
      ['*', 200],
      ['*', 200],
    ]);
  });

  it('records multipart upload ids and part numbers', async () => {
    s3.clearRequests();
    const key = 'big.ltx';
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const part = await client.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 7) }));
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );
    const [create, upload, complete] = s3.requests();
    expect(create).toMatchObject({ method: 'POST', path: `/${bucket}/${key}`, query: { uploads: '' } });
    expect(upload).toMatchObject({ method: 'PUT', query: { uploadId: UploadId, partNumber: '1' } });
    expect(complete).toMatchObject({ method: 'POST', query: { uploadId: UploadId } });
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(Buffer.alloc(1024, 7));
  });

  it('keeps the service log', () => {
    expect(s3.log().length).toBeGreaterThan(0);
  });
});

// With its default checksums the SDK frames a *stream* body as aws-chunked with a trailing
// checksum; a string or Buffer body instead gets a plain x-amz-checksum-crc32 header.
describe('aws-chunked bodies (the SDK default checksums, stream body)', () => {
  const body = 'chunked body that a quirky provider keeps framed';
  const streamingPut = (key: string) => new PutObjectCommand({ Bucket: 'chunky', Key: key, Body: Readable.from([Buffer.from(body)]), ContentLength: body.length });

  it('fauxqs stores them correctly', async () => {
    const s3 = await startFauxqs();
    const client = clientFor(s3, 'WHEN_SUPPORTED');
    try {
      await s3.createBucket('chunky');
      await client.send(streamingPut('k'));
      const got = await client.send(new GetObjectCommand({ Bucket: 'chunky', Key: 'k' }));
      expect(await got.Body!.transformToString()).toBe(body);
    } finally {
      client.destroy();
      await s3.stop();
    }
  });

  it('s3rver stores them corrupted, without an error, and the log shows why', async () => {
    const s3 = await startS3rver();
    const client = clientFor(s3, 'WHEN_SUPPORTED');
    try {
      await s3.createBucket('chunky');
      await client.send(streamingPut('k'));
      const got = await client.send(new GetObjectCommand({ Bucket: 'chunky', Key: 'k' }));
      const stored = await got.Body!.transformToString();
      expect(stored).not.toBe(body);
      expect(stored).toContain(body); // the payload is there, wrapped in chunk framing
      const put = s3.requests().find((r) => r.method === 'PUT' && r.path === '/chunky/k')!;
      expect(put.headers['content-encoding']).toContain('aws-chunked');
      expect(put.headers['x-amz-trailer']).toMatch(/^x-amz-checksum-/);
      expect(put.headers['x-amz-decoded-content-length']).toBe(String(body.length));
    } finally {
      client.destroy();
      await s3.stop();
    }
  });
});

describe('stop()', () => {
  it('frees the port and may be called twice', async () => {
    const s3 = await startS3rver();
    const port = Number(new URL(s3.endpoint).port);
    expect(await tcpAccepts(port)).toBe(true);
    await s3.stop();
    await s3.stop();
    expect(await tcpAccepts(port)).toBe(false);
  });
});

describe('choosing a server', () => {
  it('LTS_S3 forces one, and an unknown value is an error', async () => {
    expect(s3KindFromEnv({ LTS_S3: 's3rver' })).toBe('s3rver');
    expect(s3KindFromEnv({})).toBeUndefined();
    expect(() => s3KindFromEnv({ LTS_S3: 'garage' })).toThrow(/LTS_S3=garage names no S3 server; use one of minio, fauxqs, s3rver/);
    const s3 = await withEnv({ LTS_S3: 's3rver' }, () => startS3());
    try {
      expect(s3.kind).toBe('s3rver');
    } finally {
      await s3.stop();
    }
  });

  it('without Docker or a minio binary, startS3() falls back to fauxqs', async () => {
    const s3 = await withEnv({ LTS_S3: undefined }, () => startS3());
    try {
      const expected = (await dockerAvailable()) || (await findMinioBinary()) ? 'minio' : 'fauxqs';
      expect(s3.kind).toBe(expected);
    } finally {
      await s3.stop();
    }
  });

  it('MinIO without Docker or a binary fails naming both and the way out', async () => {
    await withEnv({ DOCKER_HOST: 'unix:///nonexistent/docker.sock', PATH: '' }, async () => {
      await expect(startMinio()).rejects.toThrow(/Docker engine[\s\S]*`minio` server binary on PATH[\s\S]*LTS_S3=fauxqs/);
    });
  });

  it('starts a minio binary found on PATH with loopback addresses and its credentials', async () => {
    // A stand-in for the real binary: checks the arguments and environment it is given and
    // answers the health check and bucket creation as MinIO would.
    const dir = await mkdtemp(join(tmpdir(), 'lts-fake-minio-'));
    const fake = `#!${process.execPath}
const args = process.argv.slice(2);
const address = args[args.indexOf('--address') + 1];
const consoleAddress = args[args.indexOf('--console-address') + 1];
if (args[0] !== 'server' || !address.startsWith('127.0.0.1:') || !consoleAddress.startsWith('127.0.0.1:')) { console.error('bad args', args); process.exit(2); }
if (process.env.MINIO_ROOT_USER !== 'minioadmin' || process.env.MINIO_ROOT_PASSWORD !== 'minioadmin') { console.error('no credentials'); process.exit(3); }
require('http').createServer((q, s) => { s.statusCode = q.url === '/minio/health/live' || q.method === 'PUT' ? 200 : 404; s.end(); })
  .listen(Number(address.split(':')[1]), '127.0.0.1', () => console.log('API: http://' + address));
`;
    await writeFile(join(dir, 'minio'), fake);
    await chmod(join(dir, 'minio'), 0o755);
    try {
      await withEnv({ PATH: `${dir}${delimiter}${process.env.PATH}` }, async () => {
        const s3 = await startMinio({ via: 'binary' });
        try {
          expect(s3).toMatchObject({ kind: 'minio', enforcesConditionalWrites: true, accessKeyId: 'minioadmin' });
          await s3.createBucket('chunky');
          expect(s3.log()).toContain('API: http://127.0.0.1:');
        } finally {
          await s3.stop();
        }
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('recording proxy', () => {
  it('lets the server refuse an Expect: 100-continue request before the body is sent', async () => {
    let bodyBytes = 0;
    const upstream = createServer();
    upstream.on('checkContinue', (req, res) => {
      req.on('data', (c: Buffer) => (bodyBytes += c.length));
      res.writeHead(412).end('precondition failed');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const proxy = await startRecordingProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${proxy.url}/b/lock.json`, { method: 'PUT', headers: { expect: '100-continue', 'if-match': '"stale"', 'content-length': '5' } });
        req.once('continue', () => req.end('hello'));
        req.once('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
          req.destroy();
        });
        req.once('error', reject);
      });
      expect(status).toBe(412);
      expect(bodyBytes).toBe(0);
      expect(proxy.requests()).toMatchObject([{ method: 'PUT', path: '/b/lock.json', headers: { 'if-match': '"stale"', expect: '100-continue' }, status: 412 }]);
    } finally {
      await proxy.close();
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  });
});
