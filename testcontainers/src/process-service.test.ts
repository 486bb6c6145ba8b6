import { describe, expect, it } from 'vitest';
import { dockerAvailable, freePort, startProcessService, tcpAccepts } from './index.ts';

const httpServer = (port: number, delayMs: number) =>
  `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('listening on ${port}')), ${delayMs})`;

describe('local process services', () => {
  it('waits until the service really answers, then stops it', async () => {
    const port = await freePort();
    const service = await startProcessService({
      name: 'toy-http',
      command: process.execPath,
      args: ['-e', httpServer(port, 300)],
      ready: () => tcpAccepts(port),
    });
    expect(await tcpAccepts(port)).toBe(true);
    expect(service.log()).toContain(`listening on ${port}`);
    await service.stop();
    expect(await tcpAccepts(port)).toBe(false);
  });

  it("fails with the service's own log when it exits before it is ready", async () => {
    const port = await freePort();
    await expect(
      startProcessService({
        name: 'crashy',
        command: process.execPath,
        args: ['-e', "console.error('bad config: no such key'); process.exit(3)"],
        ready: () => tcpAccepts(port),
      }),
    ).rejects.toThrow(/crashy exited with code 3[\s\S]*--- crashy log ---[\s\S]*bad config: no such key/);
  });

  it('fails naming the command when it cannot be started', async () => {
    await expect(startProcessService({ name: 'ghost', command: '/nonexistent/ghost-server', ready: async () => true })).rejects.toThrow(
      /ghost: could not start \/nonexistent\/ghost-server: spawn \/nonexistent\/ghost-server ENOENT/,
    );
  });

  it('times out with the log when the service never answers', async () => {
    const port = await freePort();
    await expect(
      startProcessService({
        name: 'silent',
        command: process.execPath,
        args: ['-e', "console.log('starting'); setInterval(() => {}, 1000)"],
        ready: () => tcpAccepts(port),
        readyTimeoutMs: 700,
      }),
    ).rejects.toThrow(/timed out after 700 ms waiting for silent to answer[\s\S]*starting/);
  });
});

describe('docker detection', () => {
  it('answers false for an endpoint where no engine listens', async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    try {
      expect(await dockerAvailable()).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
