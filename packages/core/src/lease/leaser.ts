import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger, type Logger } from '../engine/logger.ts';
import { isLitestreamError, LitestreamError } from '../ltx/errors.ts';
import { PreconditionFailedError, type ReplicaClient } from '../replica/replica-client.ts';

/** What `lock.json` holds (the field names Litestream uses). */
export interface LeaseRecord {
  readonly token: string;
  /** RFC 3339 time after which the lease is free. */
  readonly expires_at: string;
  /** `hostname:pid` of the holder, for people reading the object. */
  readonly owner: string;
}

export interface LeaserOptions {
  /** How long a lease lasts without renewal, ms (default 30 s). */
  readonly ttl?: number;
  /** Holder name (default `hostname:pid`). */
  readonly owner?: string;
  /** Object name in the replica (default `lock.json`). */
  readonly name?: string;
  readonly logger?: Logger;
  readonly now?: () => number;
}

/** The lease was taken by someone else (or vanished) while we believed we held it. */
export class LeaseLostError extends LitestreamError {
  static override readonly errorCode: string = 'LITESTREAM_LEASE_LOST';
}

/**
 * A distributed lease on a replica, so that only one process writes to it. Built on the
 * backend's conditional writes: create-if-absent to take a free lease, replace-if-etag-matches
 * to take over an expired one or to renew our own, and a conditional delete to release it.
 * A conflict (412-style) means another process got there first.
 */
export class Leaser {
  readonly client: ReplicaClient;
  readonly ttl: number;
  readonly owner: string;
  readonly name: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private etag: string | undefined;
  private record: LeaseRecord | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(client: ReplicaClient, options: LeaserOptions = {}) {
    if (!client.capabilities.conditionalWrite) {
      throw new LitestreamError(`leasing needs conditional writes, which the ${client.type} backend does not support`);
    }
    this.client = client;
    this.ttl = options.ttl ?? 30_000;
    if (!(this.ttl >= 1000)) throw new LitestreamError(`lease ttl must be at least 1s, got ${this.ttl}ms`);
    this.owner = options.owner ?? `${hostname()}:${process.pid}`;
    this.name = options.name ?? 'lock.json';
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /** True while we hold an unexpired lease (with a margin for clock skew and slow requests). */
  get held(): boolean {
    return this.record !== undefined && Date.parse(this.record.expires_at) - this.ttl / 10 > this.now();
  }

  /** One attempt: takes the lease if it is free or expired (or renews ours). */
  async tryAcquire(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const signal = options.signal;
    const current = await this.client.readObject(this.name, { signal });
    const existing = current ? parseRecord(current.data) : undefined;
    const ours = existing !== undefined && this.record !== undefined && existing.token === this.record.token;
    if (existing && !ours && Date.parse(existing.expires_at) > this.now()) {
      this.record = undefined;
      return false;
    }
    const next = this.nextRecord(ours ? this.record!.token : randomUUID());
    try {
      const { etag } = await this.client.writeObject(this.name, encode(next), current ? { ifMatch: current.etag } : { ifNoneMatch: '*' }, { signal });
      this.etag = etag;
      this.record = next;
      return true;
    } catch (err) {
      if (isLitestreamError(err, PreconditionFailedError.errorCode)) return false;
      throw err;
    }
  }

  /** Waits until the lease is ours, retrying every few seconds. Logs who holds it meanwhile. */
  async acquire(options: { signal?: AbortSignal } = {}): Promise<void> {
    let reported = '';
    for (;;) {
      options.signal?.throwIfAborted();
      if (await this.tryAcquire(options)) {
        this.logger.info('lease acquired', { owner: this.owner, expiresAt: this.record!.expires_at });
        return;
      }
      const holder = await this.client.readObject(this.name, options).then((o) => (o ? parseRecord(o.data) : undefined));
      const who = holder ? `${holder.owner} until ${holder.expires_at}` : 'another process';
      if (who !== reported) {
        this.logger.info('waiting for lease', { heldBy: holder?.owner, expiresAt: holder?.expires_at });
        reported = who;
      }
      await sleep(Math.min(this.ttl / 3, 2000), undefined, { signal: options.signal });
    }
  }

  /** Extends our lease; throws `LeaseLostError` when another process holds it now. */
  async renew(): Promise<void> {
    if (!this.record || !this.etag) throw new LeaseLostError('no lease to renew');
    const next = this.nextRecord(this.record.token);
    try {
      const { etag } = await this.client.writeObject(this.name, encode(next), { ifMatch: this.etag });
      this.etag = etag;
      this.record = next;
    } catch (err) {
      // By code, not prototype: the client's backend may be built against another copy of core.
      if (isLitestreamError(err, PreconditionFailedError.errorCode)) {
        this.record = undefined;
        throw new LeaseLostError(`lease ${this.name} was taken by another process`, { cause: err });
      }
      throw err;
    }
  }

  /** Renews every ttl/3 until stopped; `onLost` is called once if the lease is lost. */
  startRenewing(onLost: (err: Error) => void): void {
    this.stopRenewing();
    const tick = () => {
      this.renew().then(
        () => {
          if (this.timer) this.timer = setTimeout(tick, this.ttl / 3);
        },
        (err: Error) => {
          // A transient failure is retried while the lease is still ours; a loss is final.
          if (isLitestreamError(err, LeaseLostError.errorCode) || !this.held) {
            this.stopRenewing();
            onLost(err);
          } else if (this.timer) this.timer = setTimeout(tick, 1000);
        },
      );
    };
    this.timer = setTimeout(tick, this.ttl / 3);
  }

  stopRenewing(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Gives the lease back (a conditional delete, so a lease taken meanwhile is left alone). */
  async release(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.stopRenewing();
    if (!this.etag) return;
    try {
      await this.client.deleteObject(this.name, { ifMatch: this.etag }, options);
      this.logger.info('lease released', { owner: this.owner });
    } catch (err) {
      if (!isLitestreamError(err, PreconditionFailedError.errorCode)) throw err;
    } finally {
      this.etag = undefined;
      this.record = undefined;
    }
  }

  private nextRecord(token: string): LeaseRecord {
    return { token, expires_at: new Date(this.now() + this.ttl).toISOString(), owner: this.owner };
  }
}

function encode(record: LeaseRecord): Uint8Array {
  return Buffer.from(`${JSON.stringify(record)}\n`);
}

function parseRecord(data: Uint8Array): LeaseRecord | undefined {
  try {
    const value = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<LeaseRecord>;
    if (typeof value.token === 'string' && typeof value.expires_at === 'string' && !Number.isNaN(Date.parse(value.expires_at))) {
      return { token: value.token, expires_at: value.expires_at, owner: String(value.owner ?? 'unknown') };
    }
  } catch {
    // An unreadable lock file counts as expired, so a corrupt object cannot block replication forever.
  }
  return { token: '', expires_at: new Date(0).toISOString(), owner: 'unreadable lock file' };
}
