import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { startAzurite, type AzuriteService } from '../../../../testcontainers/src/azurite.ts';
import { AbsReplicaClient } from '../abs-replica-client.ts';
import type { AbsReplicaClientOptions } from '../abs-settings.ts';

/** A started Azurite, or why none could start (a failure in CI, a printed skip elsewhere). */
export type AzuriteFixture = { service: AzuriteService; skipReason: undefined } | { service: undefined; skipReason: string };

/**
 * Starts one Azurite for a test file. Outside CI a server that cannot start skips the file with
 * the reason printed; in CI (`CI=true`) it fails, so a broken fixture is never green.
 */
export async function startAzuriteFixture(): Promise<AzuriteFixture> {
  try {
    return { service: await startAzurite(), skipReason: undefined };
  } catch (error) {
    if (process.env.CI === 'true') throw error;
    const skipReason = `Azurite could not start: ${(error as Error).message.split('\n')[0]}`;
    console.warn(`[backend-abs] skipping: ${skipReason}`);
    return { service: undefined, skipReason };
  }
}

/** Creates a container no other test file uses and returns its name. */
export async function createContainer(service: AzuriteService, label: string): Promise<string> {
  const name = `${label}-${randomBytes(4).toString('hex')}`;
  const admin = new BlobServiceClient(service.blobEndpoint, new StorageSharedKeyCredential(service.accountName, service.accountKey));
  await admin.getContainerClient(name).create();
  return name;
}

/** A client on Azurite with the dev account's key, on `container` under `path`; retries kept short. */
export function clientOn(service: AzuriteService, container: string, path: string, options: Partial<AbsReplicaClientOptions> = {}): AbsReplicaClient {
  return new AbsReplicaClient({
    container,
    path,
    endpoint: service.blobEndpoint,
    accountName: service.accountName,
    accountKey: service.accountKey,
    env: {},
    maxTries: 2,
    retryDelayInMs: 50,
    ...options,
  });
}
