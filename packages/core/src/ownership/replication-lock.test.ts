import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseLockedError, ReplicationLock } from './replication-lock.ts';

let dir: string;
let children: ChildProcessWithoutNullStreams[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-lock-'));
  await writeFile(join(dir, 'app.db'), '');
});
afterEach(async () => {
  for (const child of children) child.kill('SIGKILL');
  children = [];
  await rm(dir, { recursive: true, force: true });
});

/** Starts a process holding the lock; resolves once it does. */
async function holder(database: string, metaPath: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '../test-support/lock-holder-main.ts'), database, metaPath]);
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${out}`)));
  });
  expect(line).toBe('locked');
  return child;
}

describe('ReplicationLock', () => {
  it('refuses a second holder in another process, naming its pid, host and the lock file', async () => {
    const db = join(dir, 'app.db');
    const meta = join(dir, '.app.db-litestream');
    const child = await holder(db, meta);
    const lock = new ReplicationLock(db, meta);
    const error = await lock.acquire().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseLockedError);
    const message = (error as Error).message;
    expect(message).toContain(`database ${db}`);
    expect(message).toContain(`process ${child.pid}`);
    expect(message).toContain(join(meta, 'replicate.lock'));
    expect(message).toMatch(/lease/);
    expect((error as DatabaseLockedError).holder?.pid).toBe(child.pid);
    expect(lock.held).toBe(false);
  });

  it('takes over the lock of a process that was killed (no stale lock to remove by hand)', async () => {
    const db = join(dir, 'app.db');
    const meta = join(dir, 'meta');
    const child = await holder(db, meta);
    await expect(new ReplicationLock(db, meta).acquire()).rejects.toBeInstanceOf(DatabaseLockedError);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = new ReplicationLock(db, meta);
    await lock.acquire();
    expect(lock.held).toBe(true);
    // The holder file now names this process, not the dead one.
    expect(JSON.parse(await readFile(join(meta, 'replicate.lock.json'), 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('refuses a second lock in the same process, and is free again once released', async () => {
    const db = join(dir, 'app.db');
    const meta = join(dir, 'meta');
    const first = new ReplicationLock(db, meta);
    await first.acquire();
    await expect(new ReplicationLock(db, meta).acquire()).rejects.toThrow(`process ${process.pid}`);
    first.release();
    const second = new ReplicationLock(db, meta);
    await second.acquire();
    expect(second.held).toBe(true);
    second.release();
  });

  it('refuses a database that does not exist, creating nothing', async () => {
    await expect(new ReplicationLock(join(dir, 'absent.db'), join(dir, 'absent-meta')).acquire()).rejects.toThrow(/absent\.db: database does not exist/);
    await expect(readFile(join(dir, 'absent-meta', 'replicate.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('probe reports a holder without keeping the lock, and nothing for a meta directory that does not exist', async () => {
    const db = join(dir, 'app.db');
    const meta = join(dir, 'meta');
    expect(await new ReplicationLock(db, join(dir, 'absent')).probe()).toBeUndefined();
    const child = await holder(db, meta);
    expect(await new ReplicationLock(db, meta).probe()).toMatchObject({ pid: child.pid });
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await new ReplicationLock(db, meta).probe()).toBeUndefined();
    // Probing did not leave the lock taken.
    const lock = new ReplicationLock(db, meta);
    await lock.acquire();
    lock.release();
  });
});
