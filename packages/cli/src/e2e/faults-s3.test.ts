import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy, startS3, type FaultProxy, type S3Service } from '@litestream-ts/testcontainers';
import { afterAll, describe, it } from 'vitest';
import { describeRun, expectConvergedUnderHttpFaults, replicateUnderFaults } from './test-support/fault-run.ts';

// The real `litestream replicate` against a real S3 server (whichever startS3 finds) behind a
// fault proxy that fails 10% of the requests, mixing every kind, for two minutes while a writer
// commits. Stalls are short (2 s, then the connection closes): the SDK's retries carry the
// engine through without request timeouts.
const dir = await mkdtemp(join(tmpdir(), 'lts-faults-s3-'));
let s3: S3Service | undefined;
let proxy: FaultProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('replication under injected faults: S3', () => {
  it('10% faults of every kind for 2 minutes: the replica converges and restores equal to the writer', async () => {
    s3 = await startS3();
    await s3.createBucket('lts-faults');
    proxy = await startFaultProxy({ upstream: s3.endpoint, dialect: 's3', stallMs: 2000, ...(process.env.LTS_FAULT_SEED ? { seed: Number(process.env.LTS_FAULT_SEED) } : {}) });
    const result = await replicateUnderFaults(
      {
        url: `s3://lts-faults/app?endpoint=${proxy.url}&force-path-style=true&region=${s3.region}`,
        env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
        proxy,
      },
      { dir, name: 's3', faultMs: 120_000, rate: 0.1, txnPerSecond: 20, convergeWithinMs: 60_000 },
    );
    const summary = describeRun(`s3 (${s3.kind})`, result);
    console.log(summary);
    expectConvergedUnderHttpFaults(result, summary);
  }, 300_000);
});
