import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLtxFilename } from '@litestream-ts/core';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, RunningCli } from './cli-process.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-lease-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('leasing between two replicate processes (file backend)', () => {
  it('only the holder writes; after SIGKILL the other takes over within TTL + one sync interval; the replica restores without gaps', async () => {
    const db = join(dir, 'app.db');
    const replicaDir = join(dir, 'replica');
    const app = new AppProcess(db);
    await app.insert(10);
    const config = join(dir, 'litestream.yml');
    await writeFile(config, `dbs:\n  - path: ${db}\n    monitor-interval: 100ms\n    lease:\n      ttl: 3s\n    replica:\n      url: file://${replicaDir}\n`);

    const first = new RunningCli(['replicate', '-config', config]);
    await first.waitFor('lease acquired');
    const second = new RunningCli(['replicate', '-config', config]);
    await second.waitFor('waiting for lease');
    for (let i = 0; i < 10; i++) {
      await app.insert(3);
      await sleep(100);
    }
    // The standby never acquired the lease nor initialized the database while the holder lived.
    expect(second.stdout).not.toContain('lease acquired');
    expect(second.stdout).not.toContain('initialized db');

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    await second.waitFor('lease acquired', 15_000);
    const takeover = Date.now() - killedAt;
    expect(takeover).toBeLessThan(3000 + 2000 + 1000); // TTL + retry step + one sync interval

    for (let i = 0; i < 5; i++) await app.insert(3);
    await sleep(500);
    const expected = await app.hash();
    second.child.kill('SIGTERM');
    expect((await second.exited).code, second.stderr).toBe(0);

    // Level 0 holds one contiguous chain: no TXID twice, none missing.
    const names = (await readdir(join(replicaDir, 'ltx', '0'))).map((n) => parseLtxFilename(n)).filter((r) => r !== undefined);
    const increments = names.filter((r) => r.minTXID !== 1).sort((a, b) => a.minTXID - b.minTXID);
    for (let i = 1; i < increments.length; i++) expect(increments[i]!.minTXID, 'TXID gap or overlap').toBe(increments[i - 1]!.maxTXID + 1);

    const out = join(dir, 'restored.db');
    const r = litestream(['restore', '-o', out, '-integrity-check', 'full', `file://${replicaDir}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(createHash('sha256').update(await readFile(out)).digest('hex')).toBe(expected);
    console.log(`lease takeover after SIGKILL: ${takeover} ms (ttl 3000 ms)`);
    await app.close();
  }, 60_000);
});
