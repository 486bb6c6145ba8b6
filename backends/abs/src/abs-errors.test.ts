import { BlobSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../testcontainers/src/ports.ts';
import { AbsAuthenticationError, AbsContainerNotFoundError, AbsCredentialsError, AbsPermissionError, AbsUnreachableError, REQUIRED_ROLE, wrapAbsError } from './abs-errors.ts';
import type { AbsReplicaClient } from './abs-replica-client.ts';
import { clientOn, createContainer, startAzuriteFixture } from './test-support/azurite-fixture.ts';

const fixture = await startAzuriteFixture();
afterAll(() => fixture.service?.stop());

/** Runs the first listing a replica makes (what `restore` or `ltx ls` would do) and times its failure. */
async function firstListingError(client: AbsReplicaClient, label: string): Promise<Error> {
  const started = performance.now();
  let error: unknown;
  try {
    for await (const _ of client.listLtxFiles(0)) break;
  } catch (e) {
    error = e;
  }
  const ms = Math.round(performance.now() - started);
  console.log(`[backend-abs] ${label}: surfaced after ${ms} ms: ${(error as Error | undefined)?.message}`);
  expect(error, 'the listing must fail, not look empty').toBeInstanceOf(Error);
  expect(ms).toBeLessThan(10_000);
  return error as Error;
}

describe.skipIf(fixture.service === undefined)(`errors a user sees${fixture.skipReason ? ` (skipped: ${fixture.skipReason})` : ''}`, () => {
  const service = fixture.service!;

  it('wrong account key: an authentication error that never shows the key', async () => {
    const container = await createContainer(service, 'errors');
    const wrongKey = Buffer.from('not-the-account-key-at-all-0123456789').toString('base64');
    const error = await firstListingError(clientOn(service, container, 'db', { accountKey: wrongKey }), 'wrong key');
    expect(error).toBeInstanceOf(AbsAuthenticationError);
    expect(error.message).toContain(`storage account "devstoreaccount1" (${service.blobEndpoint}) rejected the account key (account-key)`);
    expect(error.message).toContain('HTTP 403');
    expect(error.message).not.toContain(wrongKey);
    expect(error.cause).toBeUndefined();
  });

  it('unreachable host: names the endpoint and the network error within seconds', async () => {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}/devstoreaccount1`;
    const error = await firstListingError(clientOn(service, 'anything', 'db', { endpoint, maxTries: 3, retryDelayInMs: 100 }), 'unreachable host');
    expect(error).toBeInstanceOf(AbsUnreachableError);
    expect(error.message).toContain(`cannot reach storage account "devstoreaccount1" (${endpoint}) (3 attempts)`);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('missing container: names the container and the account', async () => {
    const error = await firstListingError(clientOn(service, 'no-such-container', 'db'), 'missing container');
    expect(error).toBeInstanceOf(AbsContainerNotFoundError);
    expect(error.message).toContain('container "no-such-container" does not exist in storage account "devstoreaccount1"');
    expect((error as AbsContainerNotFoundError).container).toBe('no-such-container');
  });

  it('a SAS without list permission: a permission error naming the role, the SAS scrubbed', async () => {
    const container = await createContainer(service, 'sas');
    const sasToken = generateBlobSASQueryParameters(
      { containerName: container, permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + 3_600_000) },
      new StorageSharedKeyCredential(service.accountName, service.accountKey),
    ).toString();
    const client = clientOn(service, container, 'db', { accountKey: undefined, sasToken });
    expect(client.credentialSource).toBe('sas-token');
    const error = await firstListingError(client, 'SAS without list permission');
    expect(error).toBeInstanceOf(AbsPermissionError);
    expect(error.message).toContain(REQUIRED_ROLE);
    expect(error.message).toContain('SAS token (sas-token)');
    const signature = new URLSearchParams(sasToken).get('sig')!;
    expect(error.message).not.toContain(signature);
    expect(error.message).not.toContain(encodeURIComponent(signature));
  });
});

describe('wrapAbsError', () => {
  const target = { account: 'acct', container: 'c', endpoint: 'https://acct.blob.core.windows.net', credential: 'DefaultAzureCredential identity', secrets: ['s3cr3t-key'], maxTries: 5 };
  const restError = (statusCode: number, code: string, message: string): Error => Object.assign(new Error(message), { name: 'RestError', statusCode, code });

  it('names the missing role for AuthorizationPermissionMismatch', () => {
    const error = wrapAbsError(restError(403, 'AuthorizationPermissionMismatch', 'This request is not authorized to perform this operation using this permission.\nRequestId:x'), 'list', undefined, target);
    expect(error).toBeInstanceOf(AbsPermissionError);
    expect(error.message).toMatch(/^abs list failed \(AuthorizationPermissionMismatch, HTTP 403\): the DefaultAzureCredential identity may not do this on container "c"/);
    expect(error.message).toContain('"Storage Blob Data Contributor" role');
    expect(error.message).not.toContain('RequestId');
  });

  it('treats real Azure AuthenticationFailed as a rejected credential, scrubbing secrets', () => {
    const error = wrapAbsError(restError(403, 'AuthenticationFailed', 'signature for s3cr3t-key did not match'), 'upload', 'db/x', target);
    expect(error).toBeInstanceOf(AbsAuthenticationError);
    expect(error.message).not.toContain('s3cr3t-key');
    expect(error.message.startsWith('db/x: abs upload failed')).toBe(true);
  });

  it('explains DefaultAzureCredential finding no identity', () => {
    const identity = Object.assign(new Error('DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials: …'), { name: 'AggregateAuthenticationError' });
    const error = wrapAbsError(identity, 'list', undefined, target);
    expect(error).toBeInstanceOf(AbsCredentialsError);
    expect(error.message).toContain('no usable Azure credentials');
    expect(error.message).toContain('az login');
  });

  it('passes errors that are not from the SDK through unchanged', () => {
    const source = new Error('source stream failed');
    expect(wrapAbsError(source, 'upload', 'k', target)).toBe(source);
  });
});
