import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.ts';
import { parseConfig } from './parse-config.ts';
import { fakeRegistry } from './test-support/fake-registry.ts';

const FILE = '/etc/litestream.yml';
const parse = (text: string, cwd = '/srv/app') => parseConfig(text, { file: FILE, registry: fakeRegistry(), env: {}, cwd });
const error = (text: string) => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('parsed without an error');
};

describe('socket', () => {
  it("defaults to Litestream's path and mode, and stays off unless enabled", () => {
    expect(parse('').socket).toBeUndefined();
    expect(parse('socket:\n  enabled: true\n').socket).toEqual({ enabled: true, path: '/var/run/litestream.sock', permissions: 0o600 });
    expect(parse('socket:\n  path: /tmp/x.sock\n').socket).toEqual({ enabled: false, path: '/tmp/x.sock', permissions: 0o600 });
    expect(parse('socket:\n  enabled: true\n').warnings).toEqual([]);
  });

  it('reads permissions as an octal mode, as Go does (0660, 0o660, "0660", 432)', () => {
    for (const written of ['0660', '0o660', '"0660"', '432']) {
      expect(parse(`socket:\n  enabled: true\n  permissions: ${written}\n`).socket?.permissions, written).toBe(0o660);
    }
  });

  it('refuses a mode that is not one, or that locks its owner out', () => {
    expect(error('socket:\n  permissions: 600\n')).toBe(`${FILE}:2:16: socket.permissions: expected an octal file mode such as 0600 or 0660, got "600"`);
    expect(error('socket:\n  permissions: rw\n')).toMatch(/socket\.permissions: expected an octal file mode such as 0600 or 0660, got "rw"/);
    expect(error('socket:\n  permissions: 0400\n')).toMatch(/socket\.permissions: "0400" does not let the socket's owner read and write it/);
  });

  it('takes a relative path from the working directory and refuses one too long to bind', () => {
    expect(parse('socket:\n  path: run/ls.sock\n', '/srv/app').socket?.path).toBe('/srv/app/run/ls.sock');
    const long = `/tmp/${'s'.repeat(110)}.sock`;
    expect(error(`socket:\n  path: ${long}\n`)).toMatch(/socket\.path: ".*" is 120 bytes long; a Unix socket path may have at most 107/);
  });

  it('refuses unknown keys in the section, listing the known ones', () => {
    expect(error('socket:\n  enable: true\n')).toMatch(/socket\.enable: unknown key.*enabled/);
  });
});

describe('heartbeat-url and heartbeat-interval', () => {
  it("default to Litestream's 5m interval", () => {
    expect(parse('heartbeat-url: https://hc-ping.com/abc\n').heartbeat).toEqual({ url: 'https://hc-ping.com/abc', interval: 300_000 });
    expect(parse('heartbeat-url: https://hc-ping.com/abc\nheartbeat-interval: 2m\n').heartbeat?.interval).toBe(120_000);
  });

  it('accept an interval under 1m (which Litestream refuses) with a warning', () => {
    const config = parse('heartbeat-url: http://127.0.0.1:9/p\nheartbeat-interval: 500ms\n');
    expect(config.heartbeat?.interval).toBe(500);
    expect(config.warnings).toEqual([`${FILE}:2:21: heartbeat-interval: 500ms is below 1m, which Litestream refuses; pings go out at most this often`]);
  });

  it('warn about an interval without a URL', () => {
    const config = parse('heartbeat-interval: 1m\n');
    expect(config.heartbeat).toBeUndefined();
    expect(config.warnings).toEqual([`${FILE}:1:21: heartbeat-interval: has no effect without heartbeat-url`]);
  });

  it('refuse a URL that is not http(s) without showing its token', () => {
    const message = error('heartbeat-url: ftp://hc-ping.com/0c1f-secret-token\n');
    expect(message).toBe(`${FILE}:1:16: heartbeat-url: expected an http:// or https:// URL, got "ftp://hc-ping.com…"`);
    expect(message).not.toContain('secret-token');
    expect(error('heartbeat-url: hc-ping.com/0c1f-secret-token\n')).not.toContain('secret-token');
    expect(error('heartbeat-url: "https://hc-ping.com/0c1f-secret-token\\0"\n')).toBe(`${FILE}:1:16: heartbeat-url: expected an http:// or https:// URL, got "https://hc-ping.com…"`);
    expect(error('heartbeat-interval: 0s\nheartbeat-url: http://x/y\n')).toMatch(/heartbeat-interval: must be greater than 0/);
  });
});
