import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAzurite, startFaultProxy, type AzuriteService, type FaultProxy } from '@litestream-ts/testcontainers';
import { afterAll, describe, it } from 'vitest';
import { createContainer } from '../../../../backends/abs/src/test-support/azurite-fixture.ts';
import { describeRun, expectConvergedUnderHttpFaults, replicateUnderFaults } from './test-support/fault-run.ts';

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
    expectConvergedUnderHttpFaults(result, summary);
  }, 300_000);
});
