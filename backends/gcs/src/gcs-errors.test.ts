import { afterAll, describe, expect, it } from 'vitest';
import { LitestreamError, type LtxFileRef } from '@litestream-ts/core';
import { freePort } from '../../../testcontainers/src/ports.ts';
import { startGcs } from '../../../testcontainers/src/gcs.ts';
import { BucketNotFoundError, GcsRequestError } from './gcs-errors.ts';
import { GcsReplicaClient } from './gcs-replica-client.ts';

// Wrong credentials cannot be tested here: neither our emulator nor fake-gcs-server checks
// them (requests to a custom endpoint carry none). What a 401/403 becomes is covered by the
// unit cases at the end, from the error shape Google documents.
const service = await startGcs();
afterAll(() => service.stop());

const file: LtxFileRef = { level: 0, minTXID: 1, maxTXID: 1 };
const bytes = new Uint8Array([1, 2, 3]);

/** Runs an operation that must fail, prints how long the failure took to surface, returns the error. */
async function failure(label: string, run: () => Promise<unknown>): Promise<Error> {
  const started = performance.now();
  const error = await run().then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  const ms = Math.round(performance.now() - started);
  console.log(`[gcs errors] ${label}: ${ms} ms: ${error?.message}`);
  expect(error, label).toBeInstanceOf(Error);
  expect(ms, `${label} should fail fast with short retries`).toBeLessThan(15_000);
  return error!;
}

describe('errors against an unreachable endpoint (nothing listens on the port)', async () => {
  const port = await freePort();
  const client = new GcsReplicaClient({
    bucket: 'some-bucket',
    path: 'db',
    endpoint: `http://127.0.0.1:${port}`,
    retry: { maxRetries: 1, totalTimeoutSeconds: 3 },
  });

  for (const [label, run] of [
    ['list', () => client.listLtxFiles(0).next()],
    ['write', () => client.writeLtxFile(file, bytes)],
    ['open', () => client.openLtxFile(file)],
    ['delete', () => client.deleteLtxFiles([file])],
  ] as const) {
    it(`${label} rejects naming the endpoint it cannot reach`, async () => {
      const error = await failure(`unreachable ${label}`, run);
      expect(error).toBeInstanceOf(GcsRequestError);
      expect(error.message).toContain(`cannot reach http://127.0.0.1:${port}`);
      expect(error.message).toMatch(/ECONNREFUSED/);
    });
  }
});

describe('errors for a bucket that does not exist', () => {
  const client = new GcsReplicaClient({ bucket: 'no-such-bucket-here', path: 'db', endpoint: service.endpoint, retry: { maxRetries: 1, totalTimeoutSeconds: 3 } });

  for (const [label, run] of [
    ['list', () => client.listLtxFiles(0).next()],
    ['write', () => client.writeLtxFile(file, bytes)],
    ['open', () => client.openLtxFile(file)],
    ['deleteAll', () => client.deleteAll()],
    ['lease write', () => client.writeObject('lock.json', bytes, { ifNoneMatch: '*' })],
  ] as const) {
    it(`${label} rejects with BucketNotFoundError naming the bucket`, async () => {
      const error = await failure(`missing bucket ${label}`, run);
      expect(error).toBeInstanceOf(BucketNotFoundError);
      expect(error.message).toContain('bucket "no-such-bucket-here" does not exist');
    });
  }
});

describe('error wrapping (unit)', async () => {
  const { wrapGcsError } = await import('./gcs-errors.ts');
  const apiError = (code: number, reason: string, message: string): Error =>
    Object.assign(new Error(message), { code, errors: [{ reason, message, domain: 'global' }] });

  it('reports 403 as a permission problem with the bucket, without the request', () => {
    const error = wrapGcsError(apiError(403, 'forbidden', 'sa@p.iam.gserviceaccount.com does not have storage.objects.list access to the Google Cloud Storage bucket.'), 'list', 'b', 'db/ltx/0/', undefined);
    expect(error).toBeInstanceOf(LitestreamError);
    expect(error.message).toMatch(/^db\/ltx\/0\/: gcs list on bucket "b" failed \(HTTP 403\): permission denied: .*storage\.objects\.list/);
  });

  it('reports 401 as not authenticated', () => {
    expect(wrapGcsError(apiError(401, 'required', 'Anonymous caller does not have storage.objects.get access.'), 'download', 'b', 'k', undefined).message).toContain('not authenticated');
  });

  it('reports missing Application Default Credentials clearly', () => {
    const error = wrapGcsError(new Error('Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.'), 'list', 'b', undefined, undefined);
    expect(error.message).toMatch(/no usable Google credentials.*GOOGLE_APPLICATION_CREDENTIALS/);
  });
});
