import { randomBytes } from 'node:crypto';
import { startS3, startS3rver, type S3Kind, type S3Service } from '@litestream-ts/testcontainers';
import { S3ReplicaClient } from '../s3-replica-client.ts';
import type { S3ReplicaClientOptions } from '../s3-settings.ts';

/** A started S3 server, or why none could start (a failure in CI, a printed skip elsewhere). */
export type S3Fixture = { service: S3Service; skipReason: undefined } | { service: undefined; skipReason: string };

/**
 * Starts one S3 server for a test file. Outside CI a server that cannot start skips the file
 * with the reason printed; in CI (`CI=true`) it fails, so a broken fixture is never green.
 */
export async function startS3Fixture(kind?: S3Kind | 's3rver'): Promise<S3Fixture> {
  try {
    const service = kind === 's3rver' ? await startS3rver() : await startS3(kind === undefined ? {} : { kind });
    return { service, skipReason: undefined };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    const skipReason = `no ${kind ?? 'S3'} server could start: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`[backend-s3] skipping: ${skipReason}`);
    return { service: undefined, skipReason };
  }
}

/** A bucket name no other test file uses. */
export function uniqueBucket(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/** A client on the service with its test credentials, on `bucket` under `path`. */
export function clientOn(service: S3Service, bucket: string, path: string, options: Partial<S3ReplicaClientOptions> = {}): S3ReplicaClient {
  return new S3ReplicaClient({
    bucket,
    path,
    endpoint: service.endpoint,
    region: service.region,
    accessKeyId: service.accessKeyId,
    secretAccessKey: service.secretAccessKey,
    env: {},
    maxAttempts: 3,
    ...options,
  });
}
