import { describe, expect, it } from 'vitest';
import { parseListenAddress } from './listen-address.ts';

describe('parseListenAddress', () => {
  it.each([
    [':9090', undefined, 9090],
    ['127.0.0.1:9090', '127.0.0.1', 9090],
    ['localhost:9090', 'localhost', 9090],
    ['[::1]:9090', '::1', 9090],
    ['[::]:0', '::', 0],
    [':0', undefined, 0],
  ])('%s', (addr, host, port) => {
    expect(parseListenAddress(addr)).toEqual({ host, port });
  });

  it('requires a port', () => {
    expect(() => parseListenAddress('localhost')).toThrow('must specify port for bind address: "localhost"');
    expect(() => parseListenAddress('localhost:')).toThrow('must specify port');
  });

  it('rejects bad ports and unbracketed IPv6 hosts', () => {
    expect(() => parseListenAddress(':http')).toThrow('invalid port in bind address ":http"');
    expect(() => parseListenAddress(':65536')).toThrow(/0 to 65535/);
    expect(() => parseListenAddress('::1:9090')).toThrow(/brackets/);
  });
});
