import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LtxFileInfo, LtxFileRef, StorageOperation } from './replica-client.ts';
import { StorageTimeoutError, type StorageCallContext } from './storage-call.ts';

// The clock of `ReplicaClient` against the real file backend, with a store that stalls on
// demand: `stalled` makes every request hang until the call's signal fires (as an SDK honouring
// it would) — or forever with `ignoreSignal`, as one that does not.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lts-call-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const TIMEOUT = 300;
const ref: LtxFileRef = { level: 0, minTXID: 1, maxTXID: 1 };

class StallingClient extends FileReplicaClient {
  stalled = false;
  ignoreSignal = false;
  /** Download chunks are delivered this far apart (a slow but moving link). */
  chunkDelayMs = 0;

  private async stall(call: StorageCallContext): Promise<void> {
    if (!this.stalled) return;
    await new Promise<void>((_, reject) => {
      // (`?.`: a client without signals, as before this contract had them, simply hangs.)
      if (!this.ignoreSignal) call.signal?.addEventListener('abort', () => reject(new Error('aborted by the SDK')), { once: true });
    });
  }
  protected override async *_listLtxFiles(level: number, options: Parameters<FileReplicaClient['listLtxFiles']>[1] & StorageCallContext): AsyncIterable<LtxFileInfo> {
    await this.stall(options);
    yield* super._listLtxFiles(level, options);
  }
  protected override async _openLtxFile(r: LtxFileRef, range: { offset: number; size: number | undefined } & StorageCallContext): Promise<Readable> {
    await this.stall(range);
    const stream = await super._openLtxFile(r, range);
    if (this.chunkDelayMs === 0) return stream;
    const delay = this.chunkDelayMs;
    return Readable.from(
      (async function* () {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (let at = 0; at < chunk.byteLength; at += 4096) {
            await sleep(delay);
            yield chunk.subarray(at, at + 4096);
          }
        }
      })(),
      { objectMode: false },
    );
  }
  protected override async _deleteLtxFiles(refs: readonly LtxFileRef[], call: StorageCallContext): Promise<void> {
    await this.stall(call);
    return super._deleteLtxFiles(refs, call);
  }
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.byteLength;
  return bytes;
}

/** Milliseconds `promise` took to reject, and its error. */
async function timeToReject(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { ms: Date.now() - started, error };
}

describe('ReplicaClient request timeout', () => {
  it('fails a stalled call with StorageTimeoutError after the request timeout, naming the call', async () => {
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT });
    await client.writeLtxFile(ref, Buffer.alloc(1000, 1));
    client.stalled = true;
    for (const call of [() => client.openLtxFile(ref), () => client.deleteLtxFiles([ref]), async () => { for await (const _ of client.listLtxFiles(0)); }]) {
      const { ms, error } = await timeToReject(call());
      expect(error).toBeInstanceOf(StorageTimeoutError);
      expect((error as Error).message).toMatch(/^file (read|delete|list) of level 0.* made no progress for 300ms \(request-timeout\)/);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT - 20);
      expect(ms).toBeLessThan(TIMEOUT + 1500);
    }
  });

  it('fails a stalled call even when the backend never gives up on its own', async () => {
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT });
    client.stalled = true;
    client.ignoreSignal = true;
    const { error } = await timeToReject(client.deleteLtxFiles([ref]));
    expect(error).toBeInstanceOf(StorageTimeoutError);
  });

  it('does not cut a download that keeps moving, however long it takes in all', async () => {
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT });
    await client.writeLtxFile(ref, Buffer.alloc(64 * 4096, 2));
    // 64 chunks, 40 ms apart: ~2.6 s in all, more than 8 request timeouts.
    client.chunkDelayMs = 40;
    expect(await readAll(await client.openLtxFile(ref))).toBe(64 * 4096);
  });

  it('does not count a slow consumer of a download as a stall', async () => {
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT });
    await client.writeLtxFile(ref, Buffer.alloc(4 << 20, 3));
    const stream = await client.openLtxFile(ref);
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (bytes === 0) await sleep(3 * TIMEOUT);
      bytes += chunk.byteLength;
    }
    expect(bytes).toBe(4 << 20);
  });

  it('does not count a slow producer of an upload, or a slow consumer of a listing, as a stall', async () => {
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT });
    async function* slowly(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 3; i++) {
        await sleep(2 * TIMEOUT);
        yield Buffer.alloc(1000, i);
      }
    }
    expect((await client.writeLtxFile(ref, slowly())).size).toBe(3000);
    await client.writeLtxFile({ level: 0, minTXID: 2, maxTXID: 2 }, Buffer.alloc(10));
    const listed: number[] = [];
    for await (const info of client.listLtxFiles(0)) {
      await sleep(2 * TIMEOUT);
      listed.push(info.minTXID);
    }
    expect(listed).toEqual([1, 2]);
  });

  it('counts a timed-out call as a failed operation, and a call its caller abandoned as none', async () => {
    const seen: Array<[StorageOperation, boolean]> = [];
    const client = new StallingClient(dir, { requestTimeout: TIMEOUT }).observe((op, _bytes, error) => seen.push([op, error]));
    client.stalled = true;
    await timeToReject(client.deleteLtxFiles([ref]));
    const controller = new AbortController();
    const abandoned = client.deleteLtxFiles([ref], { signal: controller.signal });
    controller.abort(new Error('stopping'));
    expect((await timeToReject(abandoned)).error).toEqual(new Error('stopping'));
    expect(seen).toEqual([
      ['DELETE', true],
      ['DELETE', false],
    ]);
  });

  it('with requestTimeout 0, waits as long as the store takes', async () => {
    const client = new StallingClient(dir, { requestTimeout: 0 });
    client.stalled = true;
    const controller = new AbortController();
    const call = client.deleteLtxFiles([ref], { signal: controller.signal });
    const outcome = timeToReject(call);
    await sleep(3 * TIMEOUT);
    controller.abort(new Error('enough'));
    const { ms, error } = await outcome;
    expect(error).toEqual(new Error('enough'));
    expect(ms).toBeGreaterThanOrEqual(3 * TIMEOUT - 20);
  });
});
