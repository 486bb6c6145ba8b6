import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAzurite, startGcs, startNatsServer, startS3, startS3rver, startSftp } from '@litestream-ts/testcontainers';
import { createContainer } from '../../../../../backends/abs/src/test-support/azurite-fixture.ts';

/** A live store for the certification and doctor tests: its URL, the environment with its credentials, and a secret that must never be printed. */
export interface CertifyTarget {
  readonly url: string;
  readonly env: Record<string, string>;
  /** A credential of this store (a key or a password); output must never contain it. */
  readonly secret: string | undefined;
  stop(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '../../../../..');

/** The six first-party backends' built plugin modules, as `LITESTREAM_PLUGINS` names them. */
export const ALL_PLUGINS = ['file', 's3', 'abs', 'gcs', 'nats', 'sftp'].map((b) => join(ROOT, 'backends', b, 'dist', 'plugin.js')).join(',');

/** The certification bin, run from its build. */
export const CONFORMANCE_BIN = join(ROOT, 'conformance', 'bin', 'conformance.js');

const label = (): string => randomBytes(3).toString('hex');

/** Every local service of @litestream-ts/testcontainers, plus a local directory, by name. */
export const CERTIFY_TARGETS: Record<string, () => Promise<CertifyTarget>> = {
  file: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lts-certify-file-'));
    return { url: pathToFileURL(join(dir, 'replica')).href, env: {}, secret: undefined, stop: () => rm(dir, { recursive: true, force: true }) };
  },
  fauxqs: async () => {
    const s3 = await startS3({ kind: 'fauxqs' });
    const bucket = `certify-${label()}`;
    await s3.createBucket(bucket);
    // fauxqs checks no signature, so any key works: a recognisable one shows whether output leaks it.
    const secret = 'fauxqs-secret-key-do-not-print';
    return {
      url: `s3://${bucket}/app?endpoint=${s3.endpoint}&region=${s3.region}`,
      env: { LITESTREAM_ACCESS_KEY_ID: 'certify-access-key', LITESTREAM_SECRET_ACCESS_KEY: secret },
      secret,
      stop: () => s3.stop(),
    };
  },
  s3rver: async () => {
    const s3 = await startS3rver();
    const bucket = `certify-${label()}`;
    await s3.createBucket(bucket);
    return {
      url: `s3://${bucket}/app?endpoint=${s3.endpoint}&region=${s3.region}`,
      env: { LITESTREAM_ACCESS_KEY_ID: s3.accessKeyId, LITESTREAM_SECRET_ACCESS_KEY: s3.secretAccessKey },
      secret: s3.secretAccessKey,
      stop: () => s3.stop(),
    };
  },
  azurite: async () => {
    const azurite = await startAzurite();
    const container = await createContainer(azurite, 'certify');
    return {
      url: `abs://${azurite.accountName}@127.0.0.1:${azurite.port}/${container}/app`,
      env: { LITESTREAM_AZURE_ACCOUNT_KEY: azurite.accountKey },
      secret: azurite.accountKey,
      stop: () => azurite.stop(),
    };
  },
  nats: async () => {
    const nats = await startNatsServer();
    return { url: `nats://127.0.0.1:${nats.port}/certify-${label()}`, env: {}, secret: undefined, stop: () => nats.stop() };
  },
  sftp: async () => {
    const sftp = await startSftp();
    return {
      url: `sftp://${sftp.username}:${encodeURIComponent(sftp.password)}@127.0.0.1:${sftp.port}/~/replica`,
      env: {},
      secret: sftp.password,
      stop: () => sftp.stop(),
    };
  },
  gcs: async () => {
    const gcs = await startGcs();
    const bucket = `certify-${label()}`;
    await gcs.createBucket(bucket);
    return { url: `gs://${bucket}/app?endpoint=${gcs.endpoint}`, env: {}, secret: undefined, stop: () => gcs.stop() };
  },
};
