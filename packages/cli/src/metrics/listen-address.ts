import { UsageError } from '@litestream-ts/core';

/** Where to listen: `host` undefined means every interface. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * Reads a listen address in Litestream's (Go's) form: `:9090` (every interface),
 * `127.0.0.1:9090`, `localhost:9090`, `[::1]:9090`. Port 0 asks for any free port.
 */
export function parseListenAddress(addr: string): ListenAddress {
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(addr);
  const colon = addr.lastIndexOf(':');
  const host = bracketed ? bracketed[1]! : addr.slice(0, Math.max(colon, 0));
  const port = bracketed ? bracketed[2]! : colon < 0 ? '' : addr.slice(colon + 1);
  if (colon < 0 || port === '') throw new UsageError(`must specify port for bind address: ${JSON.stringify(addr)}`);
  if (!bracketed && host.includes(':')) {
    throw new UsageError(`invalid bind address ${JSON.stringify(addr)}: write an IPv6 host in brackets, e.g. [::1]:9090`);
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    throw new UsageError(`invalid port in bind address ${JSON.stringify(addr)}: expected 0 to 65535`);
  }
  return { host: host === '' ? undefined : host, port: Number(port) };
}
