import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as core from '../index.ts';
import type { StorageCallContext, WriteCondition } from '../index.ts';

// A second copy of core in the same process: the build in dist/ is another module graph, with
// its own classes, as a backend that resolved another version of core would bring.
const other = (await import('../../dist/index.js')) as unknown as typeof core;

const errorClasses = Object.entries(core).filter(
  (entry): entry is [string, typeof core.LitestreamError] => typeof entry[1] === 'function' && (entry[1] === core.LitestreamError || entry[1].prototype instanceof core.LitestreamError),
);

describe('error codes', () => {
  it('every exported error class has its own stable code, carried by its instances', () => {
    expect(errorClasses.length).toBeGreaterThan(20);
    const codes = new Map<string, string>();
    for (const [name, cls] of errorClasses) {
      expect(Object.hasOwn(cls, 'errorCode'), `${name} declares static errorCode`).toBe(true);
      expect(cls.errorCode, name).toMatch(/^LITESTREAM_[A-Z0-9_]+$/);
      expect(codes.get(cls.errorCode), `${name} reuses the code of ${codes.get(cls.errorCode)}`).toBeUndefined();
      codes.set(cls.errorCode, name);
    }
    expect(new core.NoBackupsError('file', []).errorCode).toBe('LITESTREAM_NO_BACKUPS');
  });

  it("instanceof and isLitestreamError recognise another copy's errors, subclasses included", () => {
    expect(other.PreconditionFailedError).not.toBe(core.PreconditionFailedError);
    const foreign = new other.PreconditionFailedError('lock.json', { ifNoneMatch: '*' });
    expect(foreign).toBeInstanceOf(core.PreconditionFailedError);
    expect(foreign).toBeInstanceOf(core.LitestreamError);
    expect(foreign).not.toBeInstanceOf(core.NotFoundError);
    expect(core.isLitestreamError(foreign, core.PreconditionFailedError.errorCode)).toBe(true);
    expect(core.isLitestreamError(foreign)).toBe(true);
    const noBackups = new other.NoBackupsError('file', []);
    expect(noBackups).toBeInstanceOf(core.NotFoundError);
    expect(noBackups).toBeInstanceOf(core.NoBackupsError);
    expect(noBackups).not.toBeInstanceOf(core.RestoreTargetError);
  });

  it('is not fooled by look-alikes: the brand, not a name or a code property, decides', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'NotFoundError', errorCode: 'LITESTREAM_NOT_FOUND' });
    expect(lookAlike).not.toBeInstanceOf(core.NotFoundError);
    expect(core.isLitestreamError(lookAlike)).toBe(false);
    expect(core.isLitestreamError(undefined)).toBe(false);
    expect(core.isLitestreamError('LITESTREAM_NOT_FOUND')).toBe(false);
  });

  it('a subclass without its own code (a backend error) is matched by prototype only', () => {
    class BackendError extends core.LitestreamError {}
    class OtherBackendError extends core.LitestreamError {}
    expect(new BackendError('x')).toBeInstanceOf(BackendError);
    expect(new BackendError('x')).toBeInstanceOf(core.LitestreamError);
    expect(new OtherBackendError('x')).not.toBeInstanceOf(BackendError);
    expect(new BackendError('x').errorCode).toBe('LITESTREAM_ERROR');
  });
});

describe('Leaser with a backend built against another copy of core', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lts-codes-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** The file backend, with its conditional-write refusals made by the other copy's class. */
  class ForeignFileClient extends FileReplicaClient {
    protected override async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined, call: StorageCallContext): Promise<{ etag: string }> {
      try {
        return await super._writeObject(name, data, condition, call);
      } catch (error) {
        throw error instanceof Error && error.name === 'PreconditionFailedError' ? new other.PreconditionFailedError(name, condition) : error;
      }
    }
  }

  it('renew() throws LeaseLostError, and tryAcquire() reports a lost race as false', async () => {
    const leaser = new core.Leaser(new ForeignFileClient(dir), { ttl: 5000, owner: 'a' });
    expect(await leaser.tryAcquire()).toBe(true);
    const rival = new FileReplicaClient(dir);
    const lease = await rival.readObject('lock.json');
    await rival.writeObject('lock.json', new TextEncoder().encode('{}'), { ifMatch: lease!.etag });
    const error = await leaser.renew().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(core.LeaseLostError);
    expect((error as Error).constructor).toBe(core.LeaseLostError);
    await rival.writeObject('lock.json', new TextEncoder().encode('{"token":"x","expires_at":"2000-01-01T00:00:00Z","owner":"x"}'));
    const racer = new core.Leaser(new ForeignFileClient(dir), { ttl: 5000, owner: 'b' });
    const lost = await Promise.all([racer.tryAcquire(), new core.Leaser(new ForeignFileClient(dir), { ttl: 5000, owner: 'c' }).tryAcquire()]);
    expect(lost.filter(Boolean)).toHaveLength(1);
  });
});
