import { describe, expect, it } from 'vitest';
import { isSecretKey } from './secret-keys.ts';

describe('isSecretKey', () => {
  it.each([
    'secret', 'secretAccessKey', 'secret-access-key', 'SECRET_ACCESS_KEY', 'password', 'dbPasswd', 'passphrase',
    'token', 'sessionToken', 'AWS_SESSION_TOKEN', 'sas-token', 'sas', 'seed', 'credential', 'credentials', 'creds',
    'Authorization', 'jwt', 'nkey', 'key', 'accountKey', 'account-key', 'apikey', 'sse-customer-key', 'access-key-id',
    'accessKeyId', 'sig', 'X-Amz-Signature', 'X-Amz-Security-Token',
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each(['db', 'txid', 'keyPath', 'key-path', 'keyFile', 'keyCount', 'bucket', 'path', 'file', 'seeded', 'season', 'size', 'monitor'])(
    '%s is not secret',
    (key) => {
      expect(isSecretKey(key)).toBe(false);
    },
  );
});
