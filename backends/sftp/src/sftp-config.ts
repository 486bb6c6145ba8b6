import { UsageError, redactURL } from '@litestream-ts/core';

/** Settings of an SFTP replica, from a URL, a config entry or code. */
export interface SftpSettings {
  /** Host name or IP address (no port). */
  readonly host: string;
  /** Default 22. */
  readonly port?: number;
  readonly user: string;
  readonly password?: string;
  /** Replica directory on the server: absolute, or relative to the login directory. */
  readonly path?: string;
  /** Private key file on this machine (OpenSSH or PEM format). */
  readonly keyPath?: string;
  /** Public key (`ssh-ed25519 AAAA…`) or `SHA256:` fingerprint the server must present. */
  readonly hostKey?: string;
  /** Keep several writes of one upload in flight (default true, as in Litestream). */
  readonly concurrentWrites?: boolean;
}

/** Config keys of Litestream's sftp replica (besides the common ones). */
export const SFTP_CONFIG_KEYS: readonly string[] = ['host', 'user', 'password', 'key-path', 'host-key', 'concurrent-writes'];

/**
 * Parses `sftp://USER[:PASSWORD]@HOST[:PORT]/PATH`. The path is absolute on the server;
 * `sftp://host/~/dir` names `dir` under the login directory. User and password are percent-decoded.
 */
export function parseSftpURL(text: string): { settings: SftpSettings; ignored: string[] } {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new UsageError(`invalid sftp replica URL "${redactURL(text)}"; expected sftp://user[:password]@host[:port]/path`, { cause });
  }
  if (url.protocol !== 'sftp:') throw new UsageError(`the sftp backend cannot open ${url.protocol}// URLs`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new UsageError(`sftp replica URL "${redactURL(text)}" has no host; expected sftp://user@host/path`);
  const user = decode(url.username, 'user');
  if (user === '') throw new UsageError(`sftp replica URL "${redactURL(text)}" has no user; expected sftp://user@${url.host}${url.pathname}`);
  const password = url.password === '' ? undefined : decode(url.password, 'password');
  let path = decode(url.pathname, 'path');
  if (path === '/~' || path.startsWith('/~/')) path = path.slice(3);
  return {
    settings: {
      host,
      user,
      path,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      ...(password === undefined ? {} : { password }),
    },
    ignored: [...new Set(url.searchParams.keys())],
  };
}

/**
 * Reads a config entry: `url` first (when present), then the keys, which override what the URL
 * said. `host` may carry a port (`host:2222`, `[::1]:2222`), as in Litestream.
 */
export function sftpSettingsFromConfig(config: Readonly<Record<string, unknown>>): { settings: SftpSettings; ignored: string[] } {
  const url = optionalString(config, 'url');
  const fromURL = url === undefined ? undefined : parseSftpURL(url);
  const base: Partial<SftpSettings> = fromURL?.settings ?? {};
  const hostValue = optionalString(config, 'host');
  const hostPort = hostValue === undefined ? undefined : splitHostPort(hostValue);
  const user = optionalString(config, 'user') ?? base.user;
  const host = hostPort?.host ?? base.host;
  if (host === undefined) throw new UsageError('sftp replica needs a host: set "host" (for example host: backup.example.com:22) or "url" (sftp://user@host/path)');
  // What ssh2 would only refuse when it connects: brackets, slashes, spaces or credentials in a host.
  if (/[\s[\]/@]/.test(host)) throw new UsageError(`sftp host ${JSON.stringify(host)} is not a host name or address; write host, host:port or [v6-address]:port`);
  if (user === undefined) throw new UsageError('sftp replica needs a user: set "user" or put it in the URL (sftp://user@host/path)');
  const port = hostPort?.port ?? base.port;
  const password = optionalString(config, 'password') ?? base.password;
  const path = optionalString(config, 'path') ?? base.path;
  const keyPath = optionalString(config, 'key-path');
  const hostKey = optionalString(config, 'host-key');
  const concurrentWrites = optionalBoolean(config, 'concurrent-writes');
  return {
    settings: {
      host,
      user,
      ...(port === undefined ? {} : { port }),
      ...(password === undefined ? {} : { password }),
      ...(path === undefined ? {} : { path }),
      ...(keyPath === undefined ? {} : { keyPath }),
      ...(hostKey === undefined ? {} : { hostKey }),
      ...(concurrentWrites === undefined ? {} : { concurrentWrites }),
    },
    ignored: fromURL?.ignored ?? [],
  };
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
export function splitHostPort(text: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return withPort(bracketed[1]!, bracketed[2], text);
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':') as [string, string];
    return withPort(host, port, text);
  }
  // No colon, or a bare IPv6 address without a port.
  if (text === '') throw new UsageError('sftp host must not be empty');
  return { host: text };
}

function withPort(host: string, port: string | undefined, text: string): { host: string; port?: number } {
  if (host === '') throw new UsageError(`sftp host "${text}" has no host name`);
  if (port === undefined) return { host };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw new UsageError(`sftp host "${text}" has an invalid port "${port}"`);
  return { host, port: n };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch (cause) {
    throw new UsageError(`sftp replica URL has a malformed percent-escape in its ${what}`, { cause });
  }
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new UsageError(`sftp replica "${key}" must be a string, got ${typeof value}`);
  return value;
}

function optionalBoolean(config: Readonly<Record<string, unknown>>, key: string): boolean | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`sftp replica "${key}" must be true or false, got ${JSON.stringify(value)}`);
}
