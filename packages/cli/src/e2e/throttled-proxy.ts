import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A TCP proxy on a loopback port that passes requests through and answers slowly. */
export interface ThrottledProxy {
  /** `http://127.0.0.1:PORT`: use it as the endpoint instead of the upstream's. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy to `upstream` (`http://host:port`) that forwards every byte unchanged,
 * requests at full speed and answers at about `bytesPerSecond` per connection, so a restore
 * from it takes long enough to be interrupted midway. Bytes are untouched (a signed request
 * stays valid: the client signs the Host it sees, and the server gets that Host).
 */
export async function startThrottledProxy(upstream: string, bytesPerSecond: number): Promise<ThrottledProxy> {
  const target = new URL(upstream);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = connect(Number(target.port), target.hostname);
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        server.destroy();
      });
    }
    client.pipe(server);
    server.on('data', (chunk: Buffer) => {
      client.write(chunk);
      // Hold the next chunk back for as long as this one takes at the given rate.
      server.pause();
      setTimeout(() => server.resume(), Math.ceil((chunk.byteLength / bytesPerSecond) * 1000));
    });
    server.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
