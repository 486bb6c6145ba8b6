import { once } from 'node:events';
import { createServer as createHttpServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, startFauxqs, type FaultProxy, type S3Service } from './index.ts';

/** What the real upstream server saw: method, path and the size of each request body. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly bodyBytes: number;
}

let upstream: Server;
let upstreamUrl: string;
let seen: Seen[] = [];
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  upstream = createHttpServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.byteLength));
    req.on('end', () => {
      seen.push({ method: req.method!, path: req.url!, bodyBytes });
      const [, route, arg] = req.url!.split('/');
      const n = Number(arg ?? 0);
      if (route === 'bytes') res.writeHead(200, { 'content-length': n }).end(pattern(n));
      else if (route === 'chunked') {
        // No content-length: node sends it chunked, a piece every 10 ms.
        res.writeHead(200);
        let left = n;
        const tick = () => {
          const size = Math.min(left, 1000);
          left -= size;
          if (size > 0) res.write(pattern(size));
          if (left > 0) setTimeout(tick, 10);
          else res.end();
        };
        tick();
      } else res.writeHead(200, { 'content-length': 0 }).end();
    });
  });
  upstream.listen(0, '127.0.0.1');
  await once(upstream, 'listening');
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  seen = [];
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});

function pattern(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => i % 251));
}

async function proxyFor(options: Partial<Parameters<typeof startFaultProxy>[0]> = {}): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ upstream: upstreamUrl, ...options });
  proxies.push(proxy);
  return proxy;
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** One request on a fresh connection. Rejects with the socket error; `partial` collects what arrived before it. */
function call(url: string, options: { method?: string; body?: Buffer; partial?: Buffer[] } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', agent: false }, (res) => {
      const chunks = options.partial ?? [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('aborted', () => reject(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
      res.once('end', () => {
        if (res.complete) resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

const totalFaults = (proxy: FaultProxy) => proxy.kinds.reduce((sum, kind) => sum + proxy.counts()[kind], 0);

describe('fault proxy, HTTP (a real node:http server behind it)', () => {
  it('forwards requests and bodies untouched at rate 0, and counts them', async () => {
    const proxy = await proxyFor();
    const got = await call(`${proxy.url}/bytes/100000`);
    expect(got.status).toBe(200);
    expect(got.body.equals(pattern(100_000))).toBe(true);
    const put = await call(`${proxy.url}/put`, { method: 'PUT', body: pattern(50_000) });
    expect(put.status).toBe(200);
    expect(seen).toEqual([
      { method: 'GET', path: '/bytes/100000', bodyBytes: 0 },
      { method: 'PUT', path: '/put', bodyBytes: 50_000 },
    ]);
    expect(proxy.counts().forwarded).toBe(2);
    expect(totalFaults(proxy)).toBe(0);
  });

  it('reset: the connection is reset before anything reaches the server', async () => {
    const proxy = await proxyFor();
    proxy.setMode('reset');
    await expect(call(`${proxy.url}/bytes/10`)).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toEqual([]);
    expect(proxy.counts().reset).toBe(1);
    expect(proxy.events()).toMatchObject([{ kind: 'reset', source: 'mode', what: 'GET /bytes/10' }]);
  });

  it('stall as a mode: nothing is answered, in-flight bodies freeze, and clearing the mode closes them all', async () => {
    const proxy = await proxyFor();
    const partial: Buffer[] = [];
    const streaming = call(`${proxy.url}/chunked/40000`, { partial });
    streaming.catch(() => {});
    while (partial.length === 0) await sleep(5);
    proxy.setMode('stall');
    const held = call(`${proxy.url}/bytes/10`);
    held.catch(() => {});
    await sleep(100);
    const frozenAt = Buffer.concat(partial).byteLength;
    await sleep(500);
    // The server kept writing every 10 ms; none of it got through.
    expect(Buffer.concat(partial).byteLength).toBe(frozenAt);
    expect(frozenAt).toBeLessThan(40_000);
    expect(seen.map((s) => s.path)).toEqual(['/chunked/40000']);
    proxy.setMode(undefined);
    await expect(held).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(streaming).rejects.toThrow();
    expect(proxy.counts().stall).toBe(1);
    expect((await call(`${proxy.url}/bytes/10`)).status).toBe(200);
  });

  it('stall at a rate: the request is held stallMs, then its connection closes', async () => {
    const proxy = await proxyFor({ rate: 1, kinds: ['stall'], stallMs: 400 });
    const started = Date.now();
    await expect(call(`${proxy.url}/put`, { method: 'PUT', body: pattern(1000) })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(seen).toEqual([]);
    expect(proxy.counts().stall).toBe(1);
  });

  it('slow: the answer starts late and is throttled, but arrives whole', async () => {
    const proxy = await proxyFor({ rate: 1, kinds: ['slow'], slowBytesPerSecond: 20_000, slowDelayMs: 300 });
    const started = Date.now();
    const got = await call(`${proxy.url}/bytes/20000`);
    // 300 ms late, then 20 000 bytes at 20 000 bytes/s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    expect(got.body.equals(pattern(20_000))).toBe(true);
    expect(proxy.counts().slow).toBe(1);
  });

  it('truncate: part of a known-length body, all but the end of a chunked one, nothing for an empty answer', async () => {
    const proxy = await proxyFor({ rate: 1, kinds: ['truncate'] });
    const partial: Buffer[] = [];
    await expect(call(`${proxy.url}/bytes/10000`, { partial })).rejects.toThrow();
    const got = Buffer.concat(partial);
    expect(got.byteLength).toBeGreaterThanOrEqual(1000);
    expect(got.byteLength).toBeLessThanOrEqual(9000);
    expect(got.equals(pattern(10_000).subarray(0, got.byteLength))).toBe(true);

    const chunked: Buffer[] = [];
    await expect(call(`${proxy.url}/chunked/5000`, { partial: chunked })).rejects.toThrow();
    // Every data chunk came through; the terminating chunk never did.
    expect(Buffer.concat(chunked).byteLength).toBe(5000);

    // The PUT took effect on the server; only its answer was lost.
    await expect(call(`${proxy.url}/put`, { method: 'PUT', body: pattern(3000) })).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toEqual([
      { method: 'GET', path: '/bytes/10000', bodyBytes: 0 },
      { method: 'GET', path: '/chunked/5000', bodyBytes: 0 },
      { method: 'PUT', path: '/put', bodyBytes: 3000 },
    ]);
    expect(proxy.counts().truncate).toBe(3);
  });

  it('S3 errors: InternalError, ServiceUnavailable, SlowDown as S3 writes them; the server never sees the request', async () => {
    const proxy = await proxyFor({ dialect: 's3' });
    for (const [kind, status, code] of [
      ['status-500', 500, 'InternalError'],
      ['status-503', 503, 'ServiceUnavailable'],
      ['slowdown', 503, 'SlowDown'],
    ] as const) {
      proxy.setMode(kind);
      const got = await call(`${proxy.url}/put`, { method: 'PUT', body: pattern(5000) });
      expect(got.status).toBe(status);
      expect(got.headers['content-type']).toBe('application/xml');
      expect(got.body.toString()).toMatch(new RegExp(`^<\\?xml[^>]*>\\s*<Error><Code>${code}</Code><Message>[^<]+</Message><RequestId>fault-\\d+</RequestId>`));
    }
    expect(seen).toEqual([]);
    expect(proxy.counts()).toMatchObject({ 'status-500': 1, 'status-503': 1, slowdown: 1, forwarded: 0 });
  });

  it('Azure errors: InternalError and ServerBusy with x-ms-error-code, as Azure Storage writes them', async () => {
    const proxy = await proxyFor({ dialect: 'azure' });
    for (const [kind, status, code] of [
      ['status-500', 500, 'InternalError'],
      ['status-503', 503, 'ServerBusy'],
      ['slowdown', 503, 'ServerBusy'],
    ] as const) {
      proxy.setMode(kind);
      const got = await call(`${proxy.url}/bytes/10`);
      expect(got.status).toBe(status);
      expect(got.headers['x-ms-error-code']).toBe(code);
      expect(got.headers['x-ms-request-id']).toMatch(/^fault-\d+$/);
      expect(got.body.toString()).toMatch(new RegExp(`<Error><Code>${code}</Code><Message>[^<]+RequestId:fault-\\d+`));
    }
    expect(seen).toEqual([]);
  });

  it('schedule: a fault window applies from fromMs to toMs, then requests go through again', async () => {
    const proxy = await proxyFor();
    const windowOver = proxy.schedule([{ kind: 'status-503', fromMs: 0, toMs: 300 }]);
    expect((await call(`${proxy.url}/bytes/1`)).status).toBe(503);
    await windowOver;
    expect((await call(`${proxy.url}/bytes/1`)).status).toBe(200);
    expect(proxy.counts()).toMatchObject({ 'status-503': 1, forwarded: 1 });
    expect(proxy.events()[0]).toMatchObject({ source: 'schedule' });
  });

  it('pause holds new requests (no fault counted) until resume, and inFlight counts what is forwarded', async () => {
    const proxy = await proxyFor();
    proxy.pause();
    const held = call(`${proxy.url}/chunked/3000`);
    await sleep(200);
    expect(seen).toEqual([]);
    expect(proxy.inFlight()).toBe(0);
    proxy.resume();
    while (proxy.inFlight() === 0 && seen.length === 0) await sleep(2);
    expect((await held).body.byteLength).toBe(3000);
    expect(proxy.inFlight()).toBe(0);
    expect(totalFaults(proxy)).toBe(0);
  });

  it('a seed replays the same faults for the same sequence of requests', async () => {
    const run = async (seed: number) => {
      const proxy = await proxyFor({ seed, rate: 0.5, kinds: ['status-500', 'status-503'] });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await call(`${proxy.url}/bytes/1`)).status);
      return { statuses, seed: proxy.seed };
    };
    const first = await run(1234);
    expect(first.seed).toBe(1234);
    expect(new Set(first.statuses)).toEqual(new Set([200, 500, 503]));
    expect((await run(1234)).statuses).toEqual(first.statuses);
  });

  it('an upstream that is down drops the client connection, as a dead server would', async () => {
    const dead = await startFaultProxy({ upstream: 'http://127.0.0.1:1' });
    proxies.push(dead);
    await expect(call(`${dead.url}/bytes/1`)).rejects.toMatchObject({ code: 'ECONNRESET' });
  });
});

describe('fault proxy, TCP (a real TCP server behind it)', () => {
  let tcp: ReturnType<typeof createTcpServer>;
  let tcpUrl: string;
  beforeAll(async () => {
    // Greets with 5000 bytes, then echoes what it gets.
    tcp = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.write(pattern(5000));
      socket.pipe(socket);
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    tcpUrl = `tcp://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => tcp.close(resolve)));

  /** Connects, sends `send`, reads until `want` bytes or the connection ends; resolves with what came and how it ended. */
  function talk(url: string, send: Buffer, want: number): Promise<{ data: Buffer; ended: 'complete' | 'closed' | string; ms: number }> {
    const { port } = new URL(url);
    const started = Date.now();
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const socket = connect({ host: '127.0.0.1', port: Number(port) });
      const finish = (ended: string) => {
        socket.destroy();
        resolve({ data: Buffer.concat(chunks), ended, ms: Date.now() - started });
      };
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.byteLength;
        if (size >= want) finish('complete');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
      socket.once('close', () => finish('closed'));
      socket.write(send);
    });
  }

  it('forwards both directions untouched', async () => {
    const proxy = await startFaultProxy({ upstream: tcpUrl });
    proxies.push(proxy);
    expect(proxy.kinds).toEqual(['reset', 'stall', 'slow', 'truncate']);
    const got = await talk(proxy.url, Buffer.from('hello'), 5005);
    expect(got.ended).toBe('complete');
    expect(got.data.equals(Buffer.concat([pattern(5000), Buffer.from('hello')]))).toBe(true);
    expect(proxy.counts()).toMatchObject({ forwarded: 1, reset: 0 });
  });

  it('reset, stall, truncate and slow, per connection', async () => {
    const proxy = await startFaultProxy({ upstream: tcpUrl, stallMs: 300, truncateBytes: 100, slowBytesPerSecond: 10_000, slowDelayMs: 100 });
    proxies.push(proxy);
    proxy.setMode('reset');
    expect((await talk(proxy.url, Buffer.from('x'), 5001)).ended).toBe('ECONNRESET');

    proxy.setRate(1, ['stall']);
    proxy.setMode(undefined);
    const stalled = await talk(proxy.url, Buffer.from('x'), 5001);
    expect(stalled).toMatchObject({ ended: 'closed' });
    expect(stalled.data.byteLength).toBe(0);
    expect(stalled.ms).toBeGreaterThanOrEqual(290);

    proxy.setRate(1, ['truncate']);
    const cut = await talk(proxy.url, Buffer.from('x'), 5001);
    expect(cut.ended).toBe('closed');
    expect(cut.data.byteLength).toBeGreaterThanOrEqual(1);
    expect(cut.data.byteLength).toBeLessThanOrEqual(100);
    expect(cut.data.equals(pattern(cut.data.byteLength))).toBe(true);

    proxy.setRate(1, ['slow']);
    const slow = await talk(proxy.url, Buffer.from('hi'), 5002);
    expect(slow.ended).toBe('complete');
    expect(slow.ms).toBeGreaterThanOrEqual(500); // 100 ms late, then 5002 bytes at 10 000 bytes/s
    expect(proxy.counts()).toMatchObject({ reset: 1, stall: 1, truncate: 1, slow: 1, forwarded: 0 });
    expect(() => proxy.setMode('slowdown')).toThrow(/cannot be injected here/);
  });
});

describe('fault proxy in front of a real S3 server (fauxqs), with the AWS SDK', () => {
  let s3: S3Service;
  beforeAll(async () => {
    s3 = await startFauxqs();
    await s3.createBucket('faults');
  });
  afterAll(() => s3?.stop());

  const clientFor = (proxy: FaultProxy, maxAttempts: number) =>
    new S3Client({
      endpoint: proxy.url,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      forcePathStyle: true,
      maxAttempts,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });

  it('the SDK reads the injected errors as S3 errors, and its retries get through a fault window', async () => {
    const proxy = await startFaultProxy({ upstream: s3.endpoint, dialect: 's3' });
    proxies.push(proxy);
    const once = clientFor(proxy, 1);
    for (const [kind, name] of [
      ['slowdown', 'SlowDown'],
      ['status-500', 'InternalError'],
      ['status-503', 'ServiceUnavailable'],
    ] as const) {
      proxy.setMode(kind);
      await expect(once.send(new PutObjectCommand({ Bucket: 'faults', Key: 'k', Body: 'v' }))).rejects.toMatchObject({ name, $metadata: { httpStatusCode: kind === 'status-500' ? 500 : 503 } });
    }
    proxy.setMode(undefined);
    once.destroy();

    const retrying = clientFor(proxy, 6);
    const window = proxy.schedule([{ kind: 'reset', fromMs: 0, toMs: 300 }]);
    await retrying.send(new PutObjectCommand({ Bucket: 'faults', Key: 'k', Body: 'v' }));
    await window;
    expect(proxy.counts().reset).toBeGreaterThanOrEqual(1);
    retrying.destroy();
  });
});
