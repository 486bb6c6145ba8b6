import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListLtxOptions, LtxFileInfo, LtxFileRef, WriteLtxOptions, WriteLtxResult } from '../replica/replica-client.ts';
import type { StorageCallContext } from '../replica/storage-call.ts';
import { restore } from '../restore/restore.ts';
import { AppProcess } from '../test-support/app-process.ts';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { ReplicaOwnedError, claimReplica } from '../ownership/replica-owner.ts';
import { FinalSyncError, Store } from './store.ts';

// How the engine lives through a store that stops answering or cannot be reached: the real file
// backend behind a switch. `stall` makes every request hang (until the call's signal fires, as
// SDKs that take one do, or for good with `ignoreSignal`); `down` makes every request fail at once.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-outage-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const REQUEST_TIMEOUT = 300;

class FaultyStore extends FileReplicaClient {
  stall = false;
  ignoreSignal = false;
  down: Error | undefined;

  private async gate(call: StorageCallContext): Promise<void> {
    if (this.down) throw this.down;
    if (!this.stall) return;
    await new Promise<void>((_, reject) => {
      // (`?.`: a client without signals, as before this contract had them, simply hangs.)
      if (!this.ignoreSignal) call.signal?.addEventListener('abort', () => reject(new Error('request aborted')), { once: true });
    });
  }
  protected override async *_listLtxFiles(level: number, options: ListLtxOptions & StorageCallContext): AsyncIterable<LtxFileInfo> {
    await this.gate(options);
    yield* super._listLtxFiles(level, options);
  }
  protected override async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>, options: WriteLtxOptions & StorageCallContext): Promise<WriteLtxResult> {
    await this.gate(options);
    return super._writeLtxFile(ref, data, options);
  }
  protected override async _openLtxFile(ref: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext) {
    await this.gate(range);
    return super._openLtxFile(ref, range);
  }
  protected override async _readObject(name: string, call: StorageCallContext) {
    await this.gate(call);
    return super._readObject(name, call);
  }
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function expectReplicaHolds(client: FileReplicaClient, sha: string): Promise<void> {
  const out = join(dir, `restored-${Math.random().toString(36).slice(2)}.db`);
  await restore({ client: new FileReplicaClient(client.root), outputPath: out });
  expect(await sha256(out)).toBe(sha);
}

/** Polls until `check` holds, failing with `what` after `ms`. */
async function waitUntil(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

describe('Store when the store stops answering', () => {
  it('logs the stall within the request timeout, keeps staging commits locally, and catches up when it answers again', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    const client = new FaultyStore(join(dir, 'replica'), { requestTimeout: REQUEST_TIMEOUT });
    const logger = new RecordingLogger();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, syncInterval: 50, logger, l0Retention: 60_000 });
    await store.start();
    await store.syncAndWait();
    const before = store.syncStatus()[0]!;

    client.stall = true;
    const stalledAt = Date.now();
    await app.insert(5);
    await waitUntil('the stall is logged', () => logger.records.some((r) => r.message === 'sync error'));
    expect(Date.now() - stalledAt).toBeLessThan(REQUEST_TIMEOUT + 2000);
    const error = logger.records.find((r) => r.message === 'sync error')!;
    expect(error.fields).toMatchObject({ db: path, replica: 'file' });
    expect(String(error.fields.error)).toMatch(/made no progress for 300ms \(request-timeout\)/);

    // Commits made during the stall are staged (the local TXID moves), the replica's does not.
    for (let i = 0; i < 3; i++) {
      await app.insert(5);
      await sleep(150);
    }
    await waitUntil('later commits are staged', () => store.syncStatus()[0]!.localTXID >= before.localTXID + 3);
    expect(store.syncStatus()[0]!.remoteTXID).toBe(before.remoteTXID);

    client.stall = false;
    await waitUntil('the replica catches up', () => store.syncStatus()[0]!.inSync, 20_000);
    expect(logger.records.filter((r) => r.message === 'sync resumed')).toHaveLength(1);
    // The same stall, retried with backoff, is one error line; and the replica is announced once.
    expect(logger.records.filter((r) => r.message === 'sync error')).toHaveLength(1);
    expect(logger.records.filter((r) => r.message === 'replicating to' && r.level === 'info')).toHaveLength(1);
    await store.stop();
    await expectReplicaHolds(client, await app.hash());
    await app.close();
  });

  it('stop() keeps shutdownSyncTimeout while an upload hangs, even on a backend that ignores its signal, and rejects with FinalSyncError', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    // No request timeout: only the shutdown deadline can end the hung upload.
    const client = new FaultyStore(join(dir, 'replica'), { requestTimeout: 0 });
    const logger = new RecordingLogger();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, syncInterval: 50, shutdownSyncTimeout: 500, logger });
    await store.start();
    await store.syncAndWait();
    client.stall = true;
    client.ignoreSignal = true;
    await app.insert(5);
    // Let the loop start the upload that will hang.
    await sleep(300);
    const stopping = Date.now();
    const error = await store.stop().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - stopping).toBeLessThan(500 + 2000);
    expect(error).toBeInstanceOf(FinalSyncError);
    expect((error as Error).message).toMatch(/final sync incomplete: .*app\.db \(replica at TXID .*, local at .*shutdown-sync-timeout \(500ms\) reached/);
    expect(logger.records.filter((r) => r.message === 'final sync incomplete')).toHaveLength(1);
    await app.close();
  });
});

describe('Store when the store cannot be reached at start', () => {
  it('starts anyway, logs a structured error naming the database and replica, retries with backoff, and replicates once it answers', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(10);
    const client = new FaultyStore(join(dir, 'replica'), { requestTimeout: REQUEST_TIMEOUT });
    client.down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const logger = new RecordingLogger();
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, syncInterval: 50, logger });
    await store.start();
    const errors = () => logger.records.filter((r) => r.message === 'sync error');
    expect(errors()).toHaveLength(1);
    expect(errors()[0]!.fields).toMatchObject({ db: path, replica: 'file', error: expect.stringContaining('ECONNREFUSED') });
    // Several retries of the same failure (backoff 100, 200, 400 ms…), still one line.
    await sleep(1000);
    expect(errors()).toHaveLength(1);

    // It answers now, but with another failure: that one is shown.
    client.down = new Error('The specified bucket does not exist');
    await waitUntil('the new error is logged', () => errors().length === 2, 5000);
    expect(String(errors()[1]!.fields.error)).toMatch(/bucket does not exist/);

    client.down = undefined;
    await waitUntil('the replica gets everything', () => store.syncStatus()[0]!.inSync && store.syncStatus()[0]!.remoteTXID > 0, 20_000);
    expect(logger.records.filter((r) => r.message === 'sync resumed')).toHaveLength(1);
    await store.stop();
    await expectReplicaHolds(client, await app.hash());
    await app.close();
  });

  it('checks the owner marker once the store answers, and stops on a replica that belongs to another database', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(3);
    const client = new FaultyStore(join(dir, 'replica'), { requestTimeout: REQUEST_TIMEOUT });
    await claimReplica(client, { database: join(dir, 'other.db'), metaPath: join(dir, '.other.db-litestream') });
    client.down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const logger = new RecordingLogger();
    const fatal: Error[] = [];
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, syncInterval: 50, shutdownSyncTimeout: 500, logger, onFatal: (err) => fatal.push(err) });
    // The marker cannot be read yet: the start goes on, and nothing is uploaded before it is.
    await store.start();
    client.down = undefined;
    await waitUntil('the refusal', () => fatal.length > 0, 10_000);
    expect(fatal[0]).toBeInstanceOf(ReplicaOwnedError);
    expect(logger.records.filter((r) => r.message === 'replica belongs to another database')).toHaveLength(1);
    await store.stop();
    const uploaded = [];
    for await (const f of client.listLtxFiles(0)) uploaded.push(f);
    expect(uploaded).toEqual([]);
    await app.close();
  });

  it('does not wait on a stalled store longer than the request timeout to start, and reports the stall in the status', async () => {
    const path = join(dir, 'app.db');
    const app = new AppProcess(path);
    await app.insert(3);
    const client = new FaultyStore(join(dir, 'replica'), { requestTimeout: REQUEST_TIMEOUT });
    client.stall = true;
    const store = new Store({ databases: [{ path, replica: client }], monitorInterval: 50, syncInterval: 50 });
    const started = Date.now();
    await store.start();
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT + 2000);
    expect(store.syncStatus()[0]!.lastError).toMatch(/made no progress for 300ms \(request-timeout\)/);
    client.stall = false;
    await waitUntil('the replica gets everything', () => store.syncStatus()[0]!.inSync && store.syncStatus()[0]!.remoteTXID > 0, 20_000);
    await store.stop();
    await app.close();
  });
});
