import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { RunningCli } from './cli-process.ts';
import { replicateSetup } from './test-support/replicate-setup.ts';

// heartbeat-url end to end: the real `replicate` pings a local HTTP server (a stand-in for
// healthchecks.io) while its database syncs, and stops while its replica fails.
const dir = await mkdtemp(join(tmpdir(), 'lts-heartbeat-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const TOKEN = '7d2c9a4e-check-token';
const INTERVAL = 1000;

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('heartbeat-url (real bin, local HTTP server)', () => {
  it('pings while every database syncs, sends none while its replica fails, and resumes after; the token is never logged', async () => {
    const pings: number[] = [];
    const server = createServer((req, res) => {
      if (req.url === `/ping/${TOKEN}`) pings.push(Date.now());
      res.end('OK');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping/${TOKEN}`;

    const { replica, app, config } = await replicateSetup(
      dir,
      5,
      ({ db, replica }) => `heartbeat-url: ${url}\nheartbeat-interval: ${INTERVAL}ms\ndbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    replica:\n      url: file://${replica}\n      sync-interval: 100ms\n`,
    );
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('msg="heartbeat enabled"');
    await waitUntil(() => pings.length >= 2, 10_000, 'two pings');
    for (let i = 1; i < pings.length; i++) expect(pings[i]! - pings[i - 1]!).toBeGreaterThanOrEqual(INTERVAL - 50);

    // The replica fails: its directory is replaced by a file (root ignores modes, not this).
    await rename(replica, `${replica}.away`);
    await writeFile(replica, 'not a directory');
    await app.insert(3);
    await cli.waitFor('msg="sync error"', 10_000);
    // A ping that had started before the failure was seen may still land in its first moments.
    const failingSince = Date.now() + 250;
    await sleep(3 * INTERVAL + 500);
    expect(pings.filter((t) => t > failingSince), 'pings while the replica fails').toEqual([]);
    expect(cli.stdout).toContain('msg="heartbeat withheld"');

    // Recovered: syncs resume, and so do pings.
    await rm(replica);
    await rename(`${replica}.away`, replica);
    const recovered = Date.now();
    await cli.waitFor('msg="sync resumed"', 20_000);
    await waitUntil(() => pings.filter((t) => t > recovered).length >= 2, 15_000, 'pings after recovery');

    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/msg="heartbeat enabled" url=http:\/\/127\.0\.0\.1:\d+\/\[REDACTED\] interval=1s/);
    expect(cli.stdout + cli.stderr).not.toContain(TOKEN);
    await app.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }, 90_000);
});
