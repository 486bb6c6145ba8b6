import { readFileSync } from 'node:fs';
import {
  StorageType,
  connect,
  credsAuthenticator,
  jwtAuthenticator,
  nkeyAuthenticator,
  type ConnectionOptions,
  type JetStreamClient,
  type JetStreamManager,
  type NatsConnection,
  type ObjectStore,
} from 'nats';
import { UsageError } from '@litestream-ts/core';
import { NatsRequestError } from './nats-errors.ts';
import type { NatsAuth, NatsSettings } from './nats-settings.ts';

/** What one connection gives a client: the object store and the APIs under it. */
export interface NatsSession {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly os: ObjectStore;
  /** The bucket's stream (`OBJ_<bucket>`). */
  readonly stream: string;
}

/**
 * One lazily opened connection per client, shared by all its requests. A failed connect is
 * not cached, so the next request tries again; a connection nats.js gives up on (only with a
 * finite `max-reconnects`) is replaced on the next request.
 */
export class SharedNatsConnection {
  private readonly settings: NatsSettings;
  private readonly secrets: readonly string[];
  private readonly where: string;
  private pending: Promise<NatsSession> | undefined;
  private closed = false;
  // Set while nats.js is reconnecting: a request published then can be lost (measured: the first
  // JetStream request sent during a server restart timed out), so requests wait for the reconnect.
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(settings: NatsSettings, secrets: readonly string[], where: string) {
    this.settings = settings;
    this.secrets = secrets;
    this.where = where;
  }

  /** The open session, connecting first if needed, and waiting out a reconnect in progress. */
  async session(): Promise<NatsSession> {
    if (this.closed) throw new UsageError(`${this.where}: the nats replica client is closed`);
    if (this.pending === undefined) {
      const pending = this.open();
      this.pending = pending;
      pending.then(
        (s) => {
          void s.nc.closed().then(() => this.forget(pending));
          void this.watch(s.nc);
        },
        () => this.forget(pending),
      );
    }
    const session = await this.pending;
    if (this.reconnected !== undefined) await this.waitForReconnect(this.reconnected.promise);
    return session;
  }

  /** Drains the connection (in-flight requests finish) and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.pending;
    this.pending = undefined;
    const session = await pending?.catch(() => undefined);
    if (session && !session.nc.isClosed()) await session.nc.drain().catch(() => session.nc.close());
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' && this.reconnected === undefined) {
        let resolve = (): void => {};
        const promise = new Promise<void>((r) => (resolve = r));
        this.reconnected = { promise, resolve };
      } else if (status.type === 'reconnect') {
        this.reconnected?.resolve();
        this.reconnected = undefined;
      }
    }
    // The connection closed for good: nobody should wait for it any longer.
    this.reconnected?.resolve();
    this.reconnected = undefined;
  }

  private async waitForReconnect(reconnected: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('disconnected'), { code: 'DISCONNECTED' })), this.settings.timeoutMs);
    });
    try {
      await Promise.race([reconnected, timeout]);
    } catch (cause) {
      throw new NatsRequestError(`reconnect to ${this.settings.servers.join(',')}`, this.where, cause, this.secrets, this.settings.timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private forget(pending: Promise<NatsSession>): void {
    if (this.pending === pending) this.pending = undefined;
  }

  private async open(): Promise<NatsSession> {
    const { bucket, timeoutMs } = this.settings;
    const options = connectionOptions(this.settings); // a credentials file that cannot be read is a UsageError
    let nc: NatsConnection;
    try {
      nc = await connect(options);
    } catch (cause) {
      throw new NatsRequestError(`connect to ${this.settings.servers.join(',')}`, this.where, cause, this.secrets, this.settings.connectTimeoutMs);
    }
    const stream = `OBJ_${bucket}`;
    try {
      // jetstreamManager() asks for the account info first, so a server without JetStream says so here.
      const jsm = await nc.jetstreamManager({ timeout: timeoutMs });
      const exists = await jsm.streams.info(stream).then(
        () => true,
        (err: unknown) => {
          if ((err as Error).message === 'stream not found') return false;
          throw err;
        },
      );
      if (!exists && !this.settings.createBucket) throw new Error(`object store bucket "${bucket}" does not exist (create it, or allow the client to)`);
      const js = nc.jetstream({ timeout: timeoutMs });
      const os = await js.views.os(bucket, { storage: StorageType.File });
      return { nc, js, jsm, os, stream };
    } catch (cause) {
      await nc.close().catch(() => {});
      throw new NatsRequestError(`open object store bucket "${bucket}"`, this.where, cause, this.secrets, timeoutMs);
    }
  }
}

/** nats.js options for these settings: credentials as options, never inside server URLs. */
export function connectionOptions(s: NatsSettings): ConnectionOptions {
  return {
    servers: [...s.servers],
    name: 'litestream-ts',
    maxReconnectAttempts: s.maxReconnects,
    reconnectTimeWait: s.reconnectWaitMs,
    timeout: s.connectTimeoutMs,
    ...authOptions(s.auth),
    ...(s.tls === undefined ? {} : { tls: tlsOptions(s.tls) }),
  };
}

function authOptions(auth: NatsAuth): Partial<ConnectionOptions> {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text.trim());
  switch (auth.kind) {
    case 'jwt':
      return { authenticator: jwtAuthenticator(auth.jwt, encode(auth.seed)) };
    case 'creds':
      return { authenticator: credsAuthenticator(readSetting('creds', auth.file)) };
    case 'nkey':
      // A seed itself (`SU…`) or a file holding one, as the nats CLI's --nkey takes.
      return { authenticator: nkeyAuthenticator(/^S[A-Z2-7]{10,}$/.test(auth.nkey.trim()) ? encode(auth.nkey) : readSetting('nkey', auth.nkey)) };
    case 'userpass':
      return { user: auth.username, pass: auth.password };
    case 'token':
      return { token: auth.token };
    case 'none':
      return {};
  }
}

function tlsOptions(tls: NonNullable<NatsSettings['tls']>): NonNullable<ConnectionOptions['tls']> {
  return {
    ...(tls.rootCAs.length > 0 ? { ca: tls.rootCAs.map((file) => new TextDecoder().decode(readSetting('root-cas', file)).trim()).join('\n') } : {}),
    ...(tls.clientCert ? { certFile: tls.clientCert } : {}),
    ...(tls.clientKey ? { keyFile: tls.clientKey } : {}),
  };
}

function readSetting(key: string, file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (cause) {
    // The file's path is not a secret; its contents are, and are never shown.
    throw new UsageError(`nats "${key}": cannot read ${JSON.stringify(file)}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
  }
}
