import { readFile } from 'node:fs/promises';
import SftpClient from 'ssh2-sftp-client';
import { LitestreamError, StorageTimeoutError, UsageError } from '@litestream-ts/core';
import { HostKeyMismatchError, fingerprintOf, matchesPin, parseHostKey, type PinnedHostKey } from './host-key.ts';
import { SftpOps } from './sftp-session.ts';

/** Everything needed to open one SSH connection with an SFTP channel. */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string | undefined;
  readonly keyPath?: string | undefined;
  readonly privateKey?: string | Buffer | undefined;
  readonly passphrase?: string | undefined;
  readonly hostKey?: string | undefined;
  /** Limit for TCP connect plus SSH handshake and authentication (ssh2's `readyTimeout`); 0 leaves ssh2's 20 s. */
  readonly dialTimeoutMs: number;
}

/** Connecting or authenticating to the SFTP server failed. */
export class SftpConnectError extends LitestreamError {}

interface Live {
  readonly client: SftpClient;
  readonly ops: SftpOps;
  dead: boolean;
}

/**
 * One SSH connection per replica client, opened on first use. When the server or the network
 * drops it, the next operation opens a new one; `run` also retries an idempotent operation once
 * when the connection died under it, so a restarted server costs no failed sync.
 */
export class SftpConnection {
  readonly address: string;
  private readonly settings: ConnectionSettings;
  private readonly pin: PinnedHostKey | undefined;
  private live: Promise<Live> | undefined;
  private closed = false;

  constructor(settings: ConnectionSettings) {
    this.settings = settings;
    // Parse now so a malformed host-key is a config error, not a connect-time surprise.
    this.pin = settings.hostKey === undefined || settings.hostKey === '' ? undefined : parseHostKey(settings.hostKey);
    this.address = `${settings.user}@${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
  }

  /**
   * Runs `operation` on a live channel; `idempotent` operations are retried once after a dropped
   * connection. When `signal` aborts because the call made no progress (the request timeout),
   * the connection is dropped: whatever stalled it, the next operation starts on a new one
   * instead of queueing behind a stuck request on a channel that may never answer again.
   */
  async run<T>(operation: (ops: SftpOps) => Promise<T>, idempotent = true, signal?: AbortSignal): Promise<T> {
    const live = await this.connection();
    const onAbort = () => {
      if (signal?.reason instanceof StorageTimeoutError) this.drop(live);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await operation(live.ops);
    } catch (error) {
      if (!live.dead) throw this.scrub(error);
      if (!idempotent || this.closed || signal?.aborted) throw new SftpConnectError(`sftp connection to ${this.address} was lost: ${this.describe(error)}`, { cause: error });
      const again = await this.connection();
      return operation(again.ops).catch((e: unknown) => {
        throw this.scrub(e);
      });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Ends a connection at once (its pending requests fail); the next operation opens a new one. */
  private drop(live: Live): void {
    if (live.dead) return;
    live.dead = true;
    (live.client as unknown as { client: { destroy(): void } }).client.destroy();
  }

  /** Ends the connection; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.live;
    this.live = undefined;
    if (pending === undefined) return;
    const live = await pending.catch(() => undefined);
    if (live !== undefined && !live.dead) {
      live.dead = true;
      await live.client.end().catch(() => {});
    }
  }

  private async connection(): Promise<Live> {
    if (this.closed) throw new UsageError(`sftp replica client for ${this.address} is closed`);
    const current = this.live;
    if (current !== undefined) {
      const live = await current.catch(() => undefined);
      if (live !== undefined && !live.dead) return live;
      if (this.live === current) this.live = undefined;
    }
    if (this.live === undefined) {
      const opening = this.open();
      this.live = opening;
      // A failed connect must not stick: the next operation tries again.
      opening.catch(() => {
        if (this.live === opening) this.live = undefined;
      });
    }
    return this.live;
  }

  private async open(): Promise<Live> {
    const s = this.settings;
    let privateKey = s.privateKey;
    if (privateKey === undefined && s.keyPath !== undefined && s.keyPath !== '') {
      try {
        privateKey = await readFile(s.keyPath);
      } catch (cause) {
        throw new SftpConnectError(`sftp: cannot read key-path ${s.keyPath}: ${(cause as Error).message}`, { cause });
      }
    }
    if (s.password === undefined && privateKey === undefined) {
      throw new UsageError(`sftp replica for ${this.address} has no credentials: set "password" (or user:password@ in the URL) or "key-path"`);
    }
    let offered: Buffer | undefined;
    const live: Live = {
      client: new SftpClient('litestream', { error: () => (live.dead = true), end: () => (live.dead = true), close: () => (live.dead = true) }),
      ops: undefined as unknown as SftpOps,
      dead: false,
    };
    // Without TCP_NODELAY every small SFTP request waits ~40 ms on Nagle + delayed ACK
    // (measured: a 10-byte upload took 600 ms, 13 round trips); ssh2 leaves Nagle on.
    const ssh = (live.client as unknown as { client: { setNoDelay(on: boolean): void; destroy(): void } }).client;
    live.client.on('connect', () => ssh.setNoDelay(true));
    try {
      const channel = await live.client.connect({
        host: s.host,
        port: s.port,
        username: s.user,
        ...(s.password === undefined ? {} : { password: s.password }),
        ...(privateKey === undefined ? {} : { privateKey }),
        ...(s.passphrase === undefined ? {} : { passphrase: s.passphrase }),
        ...(s.dialTimeoutMs > 0 ? { readyTimeout: s.dialTimeoutMs } : {}),
        tryKeyboard: false,
        // Detects a silently vanished peer (a dropped NAT entry, a killed VM) within ~45 s.
        keepaliveInterval: 15_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer): boolean => {
          offered = key;
          return this.pin === undefined || matchesPin(this.pin, key);
        },
      });
      channel.on('close', () => (live.dead = true));
      // An unhandled 'error' event would end the process; the failing request rejects on its own.
      channel.on('error', () => (live.dead = true));
      (live as { ops: SftpOps }).ops = new SftpOps(channel);
      return live;
    } catch (error) {
      live.dead = true;
      // ssh2-sftp-client's end() does nothing before the SFTP channel exists, which would leak the
      // socket of a failed handshake (a silent server kept it open for good).
      ssh.destroy();
      if (this.pin !== undefined && offered !== undefined && !matchesPin(this.pin, offered)) {
        throw new HostKeyMismatchError(this.address, this.pin.fingerprint, fingerprintOf(offered));
      }
      throw new SftpConnectError(`sftp: cannot connect to ${this.address}: ${this.describe(error)}`, { cause: this.scrub(error) });
    }
  }

  /** A one-line reason with ssh2-sftp-client's `name: ` prefixes removed and no secret in it. */
  private describe(error: unknown): string {
    let message = error instanceof Error ? error.message : String(error);
    message = message.replace(/^(?:[A-Za-z_]+: )+/, '');
    if (/All configured authentication methods failed/i.test(message)) {
      message = `authentication failed for user "${this.settings.user}" (${this.methods()} rejected)`;
    } else if ((error as { code?: unknown }).code === 'ECONNREFUSED') {
      message = 'connection refused (ECONNREFUSED): is an SSH server listening on that port?';
    } else if (/Timed out while waiting for handshake/i.test(message)) {
      message = `no SSH handshake within ${this.settings.dialTimeoutMs} ms (connect-timeout)`;
    }
    const code = (error as { code?: unknown }).code;
    return this.redact(typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message);
  }

  private methods(): string {
    const methods = [];
    if (this.settings.password !== undefined) methods.push('password');
    if (this.settings.privateKey !== undefined || (this.settings.keyPath ?? '') !== '') methods.push('public key');
    return methods.join(' and ');
  }

  private scrub<E>(error: E): E {
    if (error instanceof Error) error.message = this.redact(error.message);
    return error;
  }

  /** Never let a password or passphrase reach a message, whatever a library put there. */
  private redact(text: string): string {
    let out = text;
    for (const secret of [this.settings.password, this.settings.passphrase]) {
      if (secret !== undefined && secret.length >= 3) out = out.split(secret).join('****');
    }
    return out;
  }
}
