import { request as httpsRequest } from 'node:https';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectTimeoutError, connectTimeoutAgent } from './connect-timeout-agent.ts';

// A TCP server that accepts and never says a word: the TLS handshake of a client never ends,
// as with a server that froze or a middlebox that swallows the traffic.
let server: Server | undefined;
const held: Socket[] = [];
afterEach(async () => {
  for (const socket of held.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function silentServer(): Promise<number> {
  server = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as { port: number }).port;
}

function get(port: number, agent: ReturnType<typeof connectTimeoutAgent>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', agent, rejectUnauthorized: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

describe('connectTimeoutAgent', () => {
  it('fails a connection whose TLS handshake does not finish within the connect timeout', async () => {
    const port = await silentServer();
    const started = Date.now();
    const error = await get(port, connectTimeoutAgent('https:', 300)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect((error as Error).message).toBe(`could not connect to 127.0.0.1:${port} within 300ms (connect-timeout)`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(Date.now() - started).toBeLessThan(300 + 1500);
  });

  it('with a connect timeout of 0, sets none', async () => {
    const port = await silentServer();
    const agent = connectTimeoutAgent('https:', 0);
    const outcome = get(port, agent).then(
      () => 'answered',
      (e: unknown) => e,
    );
    const waited = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 800))]);
    expect(waited).toBe('still waiting');
    agent.destroy();
    for (const socket of held) socket.destroy();
    await outcome;
  });
});
