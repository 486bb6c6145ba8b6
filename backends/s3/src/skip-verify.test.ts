import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { S3RequestError } from './s3-errors.ts';
import { S3ReplicaClient } from './s3-replica-client.ts';
import { collect } from './test-support/ltx-files.ts';

// A TLS server with a self-signed certificate that answers every request with an empty
// ListObjectsV2 page: enough to see whether the client accepts the certificate.
const scratch = await mkdtemp(join(tmpdir(), 'litestream-s3-tls-'));
let server: Server | undefined;
let skipReason: string | undefined;
try {
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-keyout', join(scratch, 'key.pem'), '-out', join(scratch, 'cert.pem'),
  ]);
  server = createServer({ key: await readFile(join(scratch, 'key.pem')), cert: await readFile(join(scratch, 'cert.pem')) }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
} catch (error) {
  if (process.env.CI === 'true') throw error;
  skipReason = `cannot make a self-signed certificate: ${(error as Error).message.split('\n')[0]}`;
}
afterAll(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await rm(scratch, { recursive: true, force: true });
});

const client = (skipVerify: boolean): S3ReplicaClient =>
  new S3ReplicaClient({
    bucket: 'b',
    endpoint: `https://127.0.0.1:${(server!.address() as AddressInfo).port}`,
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'secret-example-key',
    env: {},
    skipVerify,
    maxAttempts: 1,
  });

describe.skipIf(server === undefined)(`skip-verify${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  it('refuses a self-signed certificate by default', async () => {
    const error = await collect(client(false).listLtxFiles(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3RequestError);
    expect((error as Error).message).toMatch(/self[- ]signed certificate/i);
  });

  it('accepts it with skip-verify', async () => {
    expect(await collect(client(true).listLtxFiles(0))).toEqual([]);
  });
});
