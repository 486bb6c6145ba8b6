import { describe, expect, it } from 'vitest';
import { UsageError } from '@litestream-ts/core';
import { MissingCredentialsError, chooseCredentials, credentialProvider } from './credentials.ts';
import { S3ReplicaClient } from './s3-replica-client.ts';
import { collect } from './test-support/ltx-files.ts';

const LITESTREAM = { LITESTREAM_ACCESS_KEY_ID: 'LSID', LITESTREAM_SECRET_ACCESS_KEY: 'ls-secret' };
const AWS = { AWS_ACCESS_KEY_ID: 'AWSID', AWS_SECRET_ACCESS_KEY: 'aws-secret', AWS_SESSION_TOKEN: 'aws-token' };

describe('credential precedence', () => {
  it('explicit keys (per replica or merged globals) win over every environment variable', () => {
    expect(chooseCredentials({ accessKeyId: 'CFG', secretAccessKey: 'cfg-secret' }, { ...LITESTREAM, ...AWS })).toEqual({
      source: 'config',
      credentials: { accessKeyId: 'CFG', secretAccessKey: 'cfg-secret' },
    });
  });

  it('LITESTREAM_* win over AWS_*', () => {
    expect(chooseCredentials({}, { ...LITESTREAM, ...AWS })).toEqual({ source: 'LITESTREAM_*', credentials: { accessKeyId: 'LSID', secretAccessKey: 'ls-secret' } });
  });

  it('AWS_* come next, with the session token', () => {
    expect(chooseCredentials({}, AWS)).toEqual({ source: 'AWS_*', credentials: { accessKeyId: 'AWSID', secretAccessKey: 'aws-secret', sessionToken: 'aws-token' } });
  });

  it('then the default chain (shared files, SSO, ECS/EC2 roles)', () => {
    expect(chooseCredentials({}, {})).toEqual({ source: 'default chain', credentials: undefined });
    expect(chooseCredentials({ accessKeyId: '', secretAccessKey: '' }, { AWS_ACCESS_KEY_ID: '' })).toEqual({ source: 'default chain', credentials: undefined });
  });

  it('refuses half a pair, naming the missing half and never a secret', () => {
    expect(() => chooseCredentials({ accessKeyId: 'CFG' }, AWS)).toThrow(new UsageError('access-key-id is set but secret-access-key is not; set both or neither'));
    expect(() => chooseCredentials({ secretAccessKey: 'cfg-secret' }, {})).toThrow(/secret-access-key is set but access-key-id is not/);
    expect(() => chooseCredentials({}, { LITESTREAM_SECRET_ACCESS_KEY: 'ls-secret' })).toThrow(/LITESTREAM_SECRET_ACCESS_KEY is set but LITESTREAM_ACCESS_KEY_ID is not/);
    for (const call of [() => chooseCredentials({ secretAccessKey: 'cfg-secret' }, {}), () => chooseCredentials({}, { LITESTREAM_SECRET_ACCESS_KEY: 'ls-secret' })]) {
      expect(call).toThrow(expect.objectContaining({ message: expect.not.stringMatching(/secret$|ls-secret|cfg-secret/) }));
    }
  });
});

describe('credentialProvider', () => {
  it('returns static keys without touching the default chain', async () => {
    const provider = credentialProvider({ source: 'AWS_*', credentials: { accessKeyId: 'A', secretAccessKey: 'B' } }, () => {
      throw new Error('the chain must not be built');
    });
    expect(await provider()).toEqual({ accessKeyId: 'A', secretAccessKey: 'B' });
  });

  it('uses the default chain when no keys are given', async () => {
    const provider = credentialProvider({ source: 'default chain', credentials: undefined }, () => async () => ({ accessKeyId: 'ROLE', secretAccessKey: 'role-secret' }));
    expect(await provider()).toMatchObject({ accessKeyId: 'ROLE' });
  });

  it('turns a failing default chain into one line that says what to set', async () => {
    const provider = credentialProvider({ source: 'default chain', credentials: undefined }, () => async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    });
    const error = await provider().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingCredentialsError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    for (const hint of ['access-key-id', 'secret-access-key', 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'profile']) expect(message).toContain(hint);
  });
});

describe('S3ReplicaClient without credentials', () => {
  it('fails its first request with MissingCredentialsError, before sending anything', async () => {
    const client = new S3ReplicaClient({
      bucket: 'b',
      endpoint: 'http://127.0.0.1:1',
      env: {},
      defaultCredentials: () => async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      },
    });
    expect(client.credentialSource).toBe('default chain');
    await expect(collect(client.listLtxFiles(0))).rejects.toBeInstanceOf(MissingCredentialsError);
    await client.close();
  });

  it('reports which source it uses, never the keys', () => {
    const client = new S3ReplicaClient({ bucket: 'b', env: LITESTREAM });
    expect(client.credentialSource).toBe('LITESTREAM_*');
    expect(JSON.stringify(client.settings)).not.toContain('ls-secret');
  });
});
