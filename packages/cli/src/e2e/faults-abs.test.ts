import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HTTP_FAULT_KINDS, startAzurite, startFaultProxy, type AzuriteService, type FaultProxy } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { createContainer } from '../../../../backends/abs/src/test-support/azurite-fixture.ts';
import { describeRun, replicateUnderFaults } from './test-support/fault-run.ts';

// The real `litestream replicate` against Azurite behind a fault proxy that fails 10% of the
// requests (Azure's own error answers among them), mixing every kind, for two minutes while a
// writer commits. Stalls are short (2 s, then the connection closes): the SDK's retries carry
// the engine through without request timeouts.
const dir = await mkdtemp(join(tmpdir(), 'lts-faults-abs-'));
let azurite: AzuriteService | undefined;
let proxy: FaultProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  await azurite?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('replication under injected faults: Azure Blob Storage', () => {
  it('10% faults of every kind for 2 minutes: the replica converges and restores equal to the writer', async () => {
    azurite = await startAzurite();
    const container = await createContainer(azurite, 'faults');
    proxy = await startFaultProxy({ upstream: `http://127.0.0.1:${azurite.port}`, dialect: 'azure', stallMs: 2000, ...(process.env.LTS_FAULT_SEED ? { seed: Number(process.env.LTS_FAULT_SEED) } : {}) });
    const result = await replicateUnderFaults(
      {
        url: `abs://${azurite.accountName}@127.0.0.1:${proxy.port}/${container}/app`,
        env: { LITESTREAM_AZURE_ACCOUNT_KEY: azurite.accountKey },
        proxy,
      },
      { dir, name: 'abs', faultMs: 120_000, rate: 0.1, txnPerSecond: 20, convergeWithinMs: 60_000 },
    );
    const summary = describeRun('abs (azurite)', result);
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
