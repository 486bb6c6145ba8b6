import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../ltx/errors.ts';
import { ltxFilename, PreconditionFailedError, ReplicaClient, type LtxFileInfo, type LtxFileRef, type ReplicaCapabilities, type StoredObject, type WriteCondition } from '../replica/replica-client.ts';
import { clockSkewProbe, conditionalWritesProbe, deleteProbe, listAfterWriteProbe } from './generic-probes.ts';

/** How the store double misbehaves (unit tests of the probes' logic; real stores are in the CLI's certify-doctor e2e test). */
interface Quirks {
  /** Accept every precondition without checking it, as fauxqs and s3rver do. */
  readonly ignorePreconditions?: boolean;
  /** Deleted files and objects stay visible this long. */
  readonly deleteLagMs?: number;
  /** New files are listed only after this long. */
  readonly listLagMs?: number;
  /** The store's clock runs this far ahead of ours. */
  readonly clockOffsetMs?: number;
}

class StoreDouble extends ReplicaClient {
  readonly type = 'double';
  readonly capabilities: ReplicaCapabilities = { conditionalWrite: true, metadataTimestamps: false, rangedReads: 'emulated' };
  private readonly files = new Map<string, { ref: LtxFileRef; data: Buffer; at: number; goneAt?: number }>();
  private readonly objects = new Map<string, { object: StoredObject; goneAt?: number }>();
  private version = 0;
  private readonly quirks: Quirks;
  constructor(quirks: Quirks = {}) {
    super();
    this.quirks = quirks;
  }
  private visible(entry: { goneAt?: number } | undefined): boolean {
    return entry !== undefined && (entry.goneAt === undefined || Date.now() < entry.goneAt);
  }
  protected async *_listLtxFiles(level: number): AsyncIterable<LtxFileInfo> {
    for (const f of this.files.values()) {
      if (f.ref.level !== level || !this.visible(f) || Date.now() < f.at + (this.quirks.listLagMs ?? 0)) continue;
      yield { ...f.ref, size: f.data.byteLength, createdAt: new Date(f.at + (this.quirks.clockOffsetMs ?? 0)) };
    }
  }
  protected async _openLtxFile(ref: LtxFileRef): Promise<Readable> {
    const f = this.files.get(ltxFilename(ref) + ref.level);
    if (!this.visible(f)) throw new NotFoundError(ltxFilename(ref));
    return Readable.from([f!.data]);
  }
  protected async _writeLtxFile(ref: LtxFileRef, data: AsyncIterable<Uint8Array>): Promise<{ size: number; createdAt: Date }> {
    const chunks: Buffer[] = [];
    for await (const chunk of data) chunks.push(Buffer.from(chunk));
    const at = Date.now();
    this.files.set(ltxFilename(ref) + ref.level, { ref, data: Buffer.concat(chunks), at });
    return { size: Buffer.concat(chunks).byteLength, createdAt: new Date(at) };
  }
  protected async _deleteLtxFiles(refs: readonly LtxFileRef[]): Promise<void> {
    for (const ref of refs) {
      const f = this.files.get(ltxFilename(ref) + ref.level);
      if (f) f.goneAt = Date.now() + (this.quirks.deleteLagMs ?? 0);
    }
  }
  protected async _deleteAll(): Promise<void> {
    this.files.clear();
    this.objects.clear();
  }
  protected override async _readObject(name: string): Promise<StoredObject | undefined> {
    const o = this.objects.get(name);
    return this.visible(o) ? o!.object : undefined;
  }
  protected override async _writeObject(name: string, data: Uint8Array, condition: WriteCondition | undefined): Promise<{ etag: string }> {
    const current = await this._readObject(name);
    if (condition && !this.quirks.ignorePreconditions) {
      const holds = 'ifNoneMatch' in condition ? current === undefined : current?.etag === condition.ifMatch;
      if (!holds) throw new PreconditionFailedError(name, condition);
    }
    const etag = `"v${++this.version}"`;
    this.objects.set(name, { object: { data, etag } });
    return { etag };
  }
  protected override async _deleteObject(name: string, condition: { ifMatch: string } | undefined): Promise<void> {
    const o = this.objects.get(name);
    if (condition && !this.quirks.ignorePreconditions && o?.object.etag !== condition.ifMatch) throw new PreconditionFailedError(name, condition);
    if (o) o.goneAt = Date.now() + (this.quirks.deleteLagMs ?? 0);
  }
}

const context = { recheckMs: 1_000 };

describe('provider probes (their logic, against a store double)', () => {
  it('conditional writes: pass where preconditions hold, fail naming each one a store ignores', async () => {
    expect(await conditionalWritesProbe.run(new StoreDouble(), context)).toMatchObject({ status: 'pass', measured: { enforced: true } });
    const ignored = await conditionalWritesProbe.run(new StoreDouble({ ignorePreconditions: true }), context);
    expect(ignored.status).toBe('fail');
    expect(ignored.detail).toMatch(/If-None-Match: \* on an existing object was accepted; If-Match with a stale etag was accepted on a write; If-Match with a stale etag was accepted on a delete; If-Match on a missing object was accepted/);
  });

  it('conditional writes: skipped, with the reason, for a backend that declares conditionalWrite=false', () => {
    const store = new StoreDouble();
    (store as { capabilities: ReplicaCapabilities }).capabilities = { ...store.capabilities, conditionalWrite: false };
    expect(conditionalWritesProbe.skipReason?.(store)).toMatch(/conditionalWrite=false/);
  });

  it('delete visibility: pass at once, warn with the lag seen when deletes show late, fail when they outlast the bound', async () => {
    expect(await deleteProbe.run(new StoreDouble(), context)).toMatchObject({ status: 'pass', measured: { lagMs: 0 } });
    const late = await deleteProbe.run(new StoreDouble({ deleteLagMs: 300 }), context);
    expect(late.status).toBe('warn');
    expect(late.measured?.lagMs).toBeGreaterThanOrEqual(300);
    expect(late.measured?.lagMs).toBeLessThan(1_000);
    const stuck = await deleteProbe.run(new StoreDouble({ deleteLagMs: 60_000 }), context);
    expect(stuck).toMatchObject({ status: 'fail', measured: { settled: false } });
    expect(stuck.detail).toMatch(/^still listed, readable, object readable \d+ ms after the delete/);
  });

  it('list-after-write: warns with the lag when new files are listed late, fails past the bound', async () => {
    expect(await listAfterWriteProbe.run(new StoreDouble(), context)).toMatchObject({ status: 'pass' });
    const late = await listAfterWriteProbe.run(new StoreDouble({ listLagMs: 250 }), context);
    expect(late.status).toBe('warn');
    expect(late.measured?.lagMs).toBeGreaterThanOrEqual(200);
    expect(await listAfterWriteProbe.run(new StoreDouble({ listLagMs: 60_000 }), context)).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^0 of 8 files listed/) });
  });

  it('clock skew: within 2 s passes, a few seconds warns, beyond 30 s fails, with the direction', async () => {
    expect(await clockSkewProbe.run(new StoreDouble(), context)).toMatchObject({ status: 'pass', measured: { skewMs: 0 } });
    const ahead = await clockSkewProbe.run(new StoreDouble({ clockOffsetMs: 10_000 }), context);
    expect(ahead.status).toBe('warn');
    expect(ahead.detail).toMatch(/ahead of this machine's/);
    const behind = await clockSkewProbe.run(new StoreDouble({ clockOffsetMs: -120_000 }), context);
    expect(behind.status).toBe('fail');
    expect(behind.detail).toMatch(/behind this machine's/);
  });
});

describe('running the probes', () => {
  it('reports a store that cannot be listed once, as "reachable", and skips every probe', async () => {
    const { BackendRegistry } = await import('../replica/registry.ts');
    const { runProviderProbes } = await import('./run-probes.ts');
    class Unreachable extends StoreDouble {
      protected override async *_listLtxFiles(): AsyncIterable<LtxFileInfo> {
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      }
    }
    const plugin = { type: 'double', schemes: ['double'], configKeys: [], description: 'test double', fromURL: () => new Unreachable(), fromConfig: () => new Unreachable() };
    const report = await runProviderProbes(new BackendRegistry().register(plugin), { url: 'double://store/scratch' }, { recheckMs: 100 });
    expect(report.results[0]).toMatchObject({ id: 'reachable', status: 'fail', detail: 'connect ECONNREFUSED 127.0.0.1:1' });
    expect(report.results.filter((r) => r.status === 'fail')).toHaveLength(1);
    expect(report.results.slice(1).every((r) => r.status === 'skip')).toBe(true);
  });
});
