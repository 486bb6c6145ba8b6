import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileReplicaClient } from '@litestream-ts/backend-file';
import type { LtxFileInfo } from '@litestream-ts/core';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, RunningCli } from './cli-process.ts';
import { replicateSetup } from './test-support/replicate-setup.ts';

// Litestream v0.5's engine keys through the real bin: retention off with windows far shorter
// than the run, and the other keys set, none of them ignored.
const dir = await mkdtemp(join(tmpdir(), 'lts-engine-keys-e2e-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function list(client: FileReplicaClient, level: number): Promise<LtxFileInfo[]> {
  const files: LtxFileInfo[] = [];
  for await (const f of client.listLtxFiles(level)) files.push(f);
  return files;
}

describe('replicate with Litestream engine keys (real bin)', () => {
  it('retention.enabled: false keeps every file; the other keys are accepted, none ignored', async () => {
    const { replica, app, config } = await replicateSetup(dir, 5, ({ db, replica }) =>
      [
        'logging:',
        '  source: true',
        'retention:',
        '  enabled: false',
        'snapshot:',
        '  interval: 300ms',
        '  retention: 100ms',
        'levels:',
        '  - interval: 100ms',
        'l0-retention: 0s',
        'l0-retention-check-interval: 100ms',
        'validation:',
        '  interval: 200ms',
        'verify-compaction: true',
        'auto-recover: true',
        'max-sync-ltx-files: 2',
        'dbs:',
        `  - path: ${db}`,
        '    monitor-interval: 20ms',
        '    max-sync-wal-bytes: 64KiB',
        '    replica:',
        `      url: file://${replica}`,
        '',
      ].join('\n'),
    );
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('msg="replicating to"');
    const states = new Set<string>([await app.hash()]);
    for (let i = 0; i < 15; i++) {
      await app.insert(3, i % 4 === 0 ? 5000 : 100);
      states.add(await app.hash());
      await sleep(60);
    }
    // Outlasts the compaction, snapshot, validation and L0 check intervals and both retention windows.
    await sleep(1000);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.stderr).toBe(0);
    await app.close();
    const output = cli.stdout + cli.stderr;

    expect(output).not.toContain('ignored');
    expect(output).toContain('retention disabled');
    // logging.source: each line names the file and line of the code that logged it.
    expect(output).toMatch(/level=WARN source=\S+\.js:\d+ msg="retention disabled/);

    const client = new FileReplicaClient(replica);
    const l0 = await list(client, 0);
    expect(l0[0]!.minTXID).toBe(1);
    for (let i = 1; i < l0.length; i++) expect(l0[i]!.minTXID).toBe(l0[i - 1]!.maxTXID + 1);
    expect((await list(client, 9)).length).toBeGreaterThan(1);
    expect((await list(client, 1)).length).toBeGreaterThan(1);

    // Every restore point is still there: the first, one in the middle, the latest.
    const latest = l0[l0.length - 1]!.maxTXID;
    for (const txid of [1, l0[Math.floor(l0.length / 2)]!.maxTXID, latest]) {
      const out = join(dir, `at-${txid}.db`);
      const r = litestream(['restore', '-o', out, '-txid', String(txid), `file://${replica}`]);
      expect(r.status, r.stderr).toBe(0);
      expect(states.has(await sha256(out)), `state at TXID ${txid}`).toBe(true);
    }
    const out = join(dir, 'latest.db');
    expect(litestream(['restore', '-o', out, `file://${replica}`]).status).toBe(0);
    expect(await sha256(out)).toBe([...states].pop());
  }, 60_000);
});

describe('replicate -once -enforce-retention with retention.enabled: false (real bin)', () => {
  it('deletes nothing, where the same config with retention on deletes expired snapshots', async () => {
    const db = join(dir, 'once.db');
    const app = new AppProcess(db);
    await app.insert(5);
    const configFor = async (enabled: boolean, replica: string) => {
      const path = join(dir, `once-${enabled}-${replica.length}.yml`);
      await writeFile(path, `retention:\n  enabled: ${enabled}\nsnapshot:\n  retention: 100ms\ndbs:\n  - path: ${db}\n    replica:\n      url: file://${replica}\n`);
      return path;
    };
    const snapshotsAfter = async (enabled: boolean, replica: string) => {
      const config = await configFor(enabled, replica);
      // Two snapshots, both older than snapshot.retention when retention runs.
      for (let i = 0; i < 2; i++) {
        await app.insert(1);
        const r = litestream(['replicate', '-once', '-force-snapshot', '-config', config]);
        expect(r.status, r.stderr).toBe(0);
        await sleep(150);
      }
      const r = litestream(['replicate', '-once', '-enforce-retention', '-config', config]);
      expect(r.status, r.stderr).toBe(0);
      return { snapshots: await list(new FileReplicaClient(replica), 9), output: r.stdout + r.stderr };
    };
    const kept = await snapshotsAfter(false, join(dir, 'once-kept'));
    expect(kept.snapshots).toHaveLength(2);
    expect(kept.output).toContain('retention.enabled is false: -enforce-retention deletes nothing');
    const enforced = await snapshotsAfter(true, join(dir, 'once-enforced-replica'));
    expect(enforced.snapshots).toHaveLength(1);
    await app.close();
  }, 60_000);
});
