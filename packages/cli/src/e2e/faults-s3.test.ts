import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP_FAULT_KINDS, startFaultProxy, startS3, type FaultProxy, type S3Service } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { describeRun, replicateUnderFaults } from './test-support/fault-run.ts';

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
    const context = `${summary}\nreplay with LTS_FAULT_SEED=${result.seed}\n--- replicate log (tail) ---\n${result.log.slice(-6000)}`;
    // Every kind of the mix was injected, and the client sent the lost requests again.
    for (const kind of HTTP_FAULT_KINDS) expect(result.counts[kind], `${kind}\n${context}`).toBeGreaterThan(0);
    expect(result.retried.repeated / result.retried.faults, context).toBeGreaterThanOrEqual(0.9);
    // Compaction and snapshots keep up under faults: a body cut short is read again from where
    // it broke, so maintenance (due every 5 s) is never failing for long.
    expect(result.longestMaintenanceOutageMs, context).toBeLessThan(30_000);
    expect(result.convergenceMs, context).toBeLessThan(60_000);
    expect(result.integrity, context).toBe('ok');
    expect(result.rows.restored, context).toBe(result.rows.writer);
    expect(result.logged['final sync failed'], context).toBe(0);
    expect(result.exit, context).toEqual({ code: 0, signal: null });
  }, 300_000);
});
