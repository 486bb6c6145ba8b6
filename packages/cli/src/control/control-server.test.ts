import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@litestream-ts/core';
import { afterAll, describe, expect, it } from 'vitest';
import { callControl } from './control-client.ts';
import { ControlServer } from './control-server.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-ctl-server-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ControlServer', () => {
  it('creates the socket with the asked mode, leaves the umask as it was, answers 503 until served, removes the file on close', async () => {
    const path = join(dir, 'a.sock');
    const umask = process.umask(0o022);
    const server = await ControlServer.open({ path, permissions: 0o640, logger: silentLogger });
    expect(process.umask(umask)).toBe(0o022);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    await expect(callControl({ socket: path, timeout: 5000, command: 'list' }, 'GET /list')).rejects.toThrow(
      'list failed: litestream replicate is still starting (opening its databases); try again shortly',
    );
    await server.close();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses a path that is not a socket, and a socket another server answers on', async () => {
    const file = join(dir, 'plain');
    await writeFile(file, '');
    await expect(ControlServer.open({ path: file, permissions: 0o600, logger: silentLogger })).rejects.toThrow(
      `control socket ${file} (socket.path) exists and is not a socket; remove it or set another socket.path`,
    );
    const path = join(dir, 'b.sock');
    const first = await ControlServer.open({ path, permissions: 0o600, logger: silentLogger });
    await expect(ControlServer.open({ path, permissions: 0o600, logger: silentLogger })).rejects.toThrow(
      `control socket ${path} is in use by another litestream replicate; stop it or set another socket.path`,
    );
    expect(existsSync(path)).toBe(true);
    await first.close();
    await expect(ControlServer.open({ path: join(dir, 'no-such-dir', 'c.sock'), permissions: 0o600, logger: silentLogger })).rejects.toThrow(`cannot serve the control socket ${join(dir, 'no-such-dir', 'c.sock')} (socket.path): no such directory ${join(dir, 'no-such-dir')}`);
  });
});
