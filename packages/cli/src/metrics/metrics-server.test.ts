import { afterEach, describe, expect, it } from 'vitest';
import { startMetricsServer, type MetricsServer } from './metrics-server.ts';
import { PrometheusMetrics } from './prometheus-metrics.ts';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(addr: string, metrics = new PrometheusMetrics({ defaultMetrics: false })): Promise<MetricsServer> {
  const server = await startMetricsServer(addr, metrics);
  servers.push(server);
  return server;
}

describe('startMetricsServer', () => {
  it('serves the exposition over HTTP on a free port of every interface', async () => {
    const metrics = new PrometheusMetrics();
    metrics.txid('/data/app.db', 7);
    metrics.replicaOperation('/data/app.db', 'file', 'PUT', 512, false);
    const server = await start(':0', metrics);
    expect(server.url).toMatch(/^http:\/\/localhost:[1-9]\d*\/metrics$/);

    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await response.text();
    expect(body).toContain('litestream_txid{db="/data/app.db"} 7');
    expect(body).toContain('litestream_replica_operation_bytes{replica_type="file",operation="PUT"} 512');
    expect(body).toContain('process_cpu_seconds_total');
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const server = await start('127.0.0.1:0');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const base = new URL(server.url);
    expect((await fetch(new URL('/', base))).status).toBe(404);
    expect((await fetch(new URL('/metrics/x', base))).status).toBe(404);
    expect((await fetch(new URL('/metrics?format=text', base))).status).toBe(200);
    const post = await fetch(server.url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails clearly when the port is in use, naming the address', async () => {
    const first = await start('127.0.0.1:0');
    const addr = `127.0.0.1:${new URL(first.url).port}`;
    await expect(startMetricsServer(addr, new PrometheusMetrics({ defaultMetrics: false }))).rejects.toThrow(
      `cannot start metrics server on ${addr}: the address is already in use`,
    );
  });

  it('rejects an address without a port before listening', async () => {
    await expect(startMetricsServer('localhost', new PrometheusMetrics({ defaultMetrics: false }))).rejects.toThrow('must specify port');
  });

  it('closes even with a keep-alive connection open', async () => {
    const server = await start(':0');
    await (await fetch(server.url, { headers: { connection: 'keep-alive' } })).text();
    await server.close();
    servers.length = 0;
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
