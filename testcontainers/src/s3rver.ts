import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { startProcessService, type ProcessService } from './process-service.ts';
import type { S3Service } from './s3-service.ts';
import { withRecordingProxy } from './s3-support.ts';
import { httpAnswers } from './wait.ts';

/** Options for {@link startS3rver}. */
export interface S3rverOptions {
  readonly readyTimeoutMs?: number;
}

/**
 * Starts s3rver (npm, a dependency of this package) on a free loopback port with its data in a
 * fresh temp directory, behind a recording proxy. It is the deliberately quirky provider: it
 * checks signatures (credentials `S3RVER`/`S3RVER`) but stores `aws-chunked` bodies with their
 * chunk framing still in them, and it ignores conditional writes.
 */
export async function startS3rver(options: S3rverOptions = {}): Promise<S3Service> {
  const dir = await mkdtemp(join(tmpdir(), 'lts-s3rver-'));
  const port = await freePort();
  let service: ProcessService;
  try {
    service = await startProcessService({
      name: 's3rver',
      ...s3rverCommand(dir, port),
      ready: () => httpAnswers(`http://127.0.0.1:${port}/`),
      ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return withRecordingProxy({
    kind: 's3rver',
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    enforcesConditionalWrites: false,
    pid: service.pid,
    log: () => service.log(),
    stop: () => service.stop(),
    tempDirs: [dir],
  });
}

/**
 * How to run s3rver on loopback `port` with its data in `directory` (credentials `S3RVER`/`S3RVER`),
 * for callers that manage the process themselves (e.g. the soak script kills and restarts it on
 * the same data).
 */
export function s3rverCommand(directory: string, port: number): { command: string; args: string[] } {
  let bin: string;
  try {
    bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  } catch {
    throw new Error('s3rver is not installed: run `pnpm install` in the workspace (it is a dependency of @litestream-ts/testcontainers).');
  }
  return {
    command: process.execPath,
    // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
    // through its legacy provider; without it every paged listing fails with a 500.
    args: ['--openssl-legacy-provider', bin, '--directory', directory, '--address', '127.0.0.1', '--port', String(port), '--no-vhost-buckets'],
  };
}
