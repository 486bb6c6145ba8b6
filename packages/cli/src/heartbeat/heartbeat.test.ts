import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SyncStatus } from '@litestream-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logging/index.ts';
import { collectSecrets } from '../secrets.ts';
import type { LitestreamConfig } from '../config/index.ts';
import { Heartbeat, unhealthyReason } from './heartbeat.ts';

const TOKEN = '5f1e2a77-heartbeat-token';
const ok = (path: string, extra: Partial<SyncStatus> = {}): SyncStatus => ({ path, localTXID: 5, remoteTXID: 5, inSync: true, healthy: true, lastSyncAt: new Date(), ...extra });

describe('unhealthyReason', () => {
  const now = Date.now();
  it('finds every database fine when each is in sync or synced within the interval', () => {
    expect(unhealthyReason([ok('/a'), ok('/b', { inSync: false, localTXID: 6, lastSyncAt: new Date(now - 900) })], 1000, now)).toBeUndefined();
    // Idle and in sync since long ago: as good as synced now (no request is made for an idle database).
    expect(unhealthyReason([ok('/a', { lastSyncAt: new Date(now - 3_600_000) })], 1000, now)).toBeUndefined();
  });

  it('withholds pings for a failing, stale, corrupt or missing database', () => {
    expect(unhealthyReason([], 1000, now)).toBe('no database is being replicated');
    expect(unhealthyReason([ok('/a'), ok('/b', { lastError: 'ENOTDIR' })], 1000, now)).toBe('/b: sync failing: ENOTDIR');
    expect(unhealthyReason([ok('/a', { inSync: false, lastSyncAt: new Date(now - 1001) })], 1000, now)).toBe('/a: no successful sync within 1s');
    expect(unhealthyReason([ok('/a', { inSync: false, lastSyncAt: undefined })], 1000, now)).toBe('/a: no successful sync within 1s');
    expect(unhealthyReason([ok('/a', { healthy: false })], 1000, now)).toBe('/a: its replica holds a corrupt file, awaiting repair');
  });
});

describe('Heartbeat (against a local HTTP server)', () => {
  let server: Server | undefined;
  let heartbeat: Heartbeat | undefined;
  afterEach(async () => {
    await heartbeat?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  /** A server recording each ping's time; it answers `status()`. */
  async function pingServer(status: () => number): Promise<{ url: string; pings: number[] }> {
    const pings: number[] = [];
    server = createServer((req, res) => {
      if (req.url === `/ping/${TOKEN}`) pings.push(Date.now());
      res.writeHead(status()).end('OK');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/${TOKEN}`, pings };
  }

  function logger(url: string): { lines: string[]; logger: ReturnType<typeof createLogger> } {
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    // The secrets `replicate` registers for a config with this heartbeat URL.
    const secrets = collectSecrets({ dbs: [], heartbeat: { url, interval: 1 } } as unknown as LitestreamConfig);
    return { lines, logger: createLogger({ level: 'debug', format: 'text', stream, secrets }) };
  }

  it('pings every interval while all is well, none while a database fails (for 3 intervals), and again after', async () => {
    const { url, pings } = await pingServer(() => 200);
    const log = logger(url);
    let statuses: SyncStatus[] = [ok('/a')];
    const interval = 300;
    heartbeat = new Heartbeat({ url, interval, statuses: () => statuses.map((s) => ({ ...s, lastSyncAt: new Date() })), logger: log.logger });
    heartbeat.start();
    for (let i = 0; i < 100 && pings.length < 3; i++) await sleep(50);
    expect(pings.length).toBeGreaterThanOrEqual(3);
    // Never more often than the interval (arrival times jitter by each request's own latency).
    for (let i = 1; i < pings.length; i++) expect(pings[i]! - pings[i - 1]!).toBeGreaterThanOrEqual(interval - 50);

    statuses = [ok('/a'), ok('/b', { lastError: 'upload failed: ENOTDIR' })];
    // A ping already under way may still land; none may start once the failure is seen.
    await sleep(100);
    const failingSince = Date.now();
    await sleep(interval * 3 + 100);
    expect(pings.filter((t) => t > failingSince)).toEqual([]);
    expect(log.lines.filter((l) => l.includes('msg="heartbeat withheld"'))).toHaveLength(1);
    expect(log.lines.join('\n')).toContain('reason="/b: sync failing: upload failed: ENOTDIR"');

    statuses = [ok('/a'), ok('/b')];
    const recovered = Date.now();
    for (let i = 0; i < 40 && pings.filter((t) => t > recovered).length < 2; i++) await sleep(50);
    expect(pings.filter((t) => t > recovered).length).toBeGreaterThanOrEqual(2);
    expect(log.lines.filter((l) => l.includes('msg="heartbeat conditions met again"'))).toHaveLength(1);
  });

  it('logs a failing endpoint once per run of failures, and its recovery once; the token never appears', async () => {
    let answer = 500;
    const { url, pings } = await pingServer(() => answer);
    const log = logger(url);
    heartbeat = new Heartbeat({ url, interval: 150, statuses: () => [ok('/a')], logger: log.logger });
    heartbeat.start();
    for (let i = 0; i < 100 && pings.length < 4; i++) await sleep(50);
    expect(pings.length).toBeGreaterThanOrEqual(4);
    const failed = log.lines.filter((l) => l.includes('msg="heartbeat ping failed"'));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toContain('error="unexpected HTTP status 500"');
    expect(failed[0]).toMatch(/url=http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\]/);

    answer = 200;
    const before = pings.length;
    for (let i = 0; i < 100 && pings.length < before + 3; i++) await sleep(50);
    expect(log.lines.filter((l) => l.includes('msg="heartbeat ping succeeded again"'))).toHaveLength(1);
    answer = 503;
    const again = pings.length;
    for (let i = 0; i < 100 && pings.length < again + 3; i++) await sleep(50);
    expect(log.lines.filter((l) => l.includes('msg="heartbeat ping failed"'))).toHaveLength(2);

    // Another failure in the same run (the endpoint is gone) adds no line.
    server!.closeAllConnections();
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    await sleep(600);
    expect(log.lines.filter((l) => l.includes('msg="heartbeat ping failed"'))).toHaveLength(2);
    expect(log.lines.join('\n')).not.toContain(TOKEN);
  });
});
