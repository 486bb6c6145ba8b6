import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, RunningCli } from './cli-process.ts';

const dir = await mkdtemp(join(tmpdir(), 'lts-cli-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

async function writeConfig(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, body);
  return path;
}

describe('litestream replicate and restore (real bin)', () => {
  it('replicates with a config while another process writes; SIGTERM does a final sync that loses nothing', async () => {
    const db = join(dir, 'cfg.db');
    const app = new AppProcess(db);
    await app.insert(5);
    const config = await writeConfig(
      'cfg.yml',
      `addr: 127.0.0.1:0\ndbs:\n  - path: ${db}\n    monitor-interval: 50ms\n    replica:\n      url: file://${join(dir, 'cfg-replica')}\n`,
    );
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('replicating to');
    await cli.waitFor('serving metrics on');
    for (let i = 0; i < 20; i++) {
      await app.insert(3, i % 4 === 0 ? 5000 : 100);
      await sleep(20);
    }
    // Prometheus metrics on `addr`, under Litestream's names.
    const metricsURL = /msg="serving metrics on" url=(\S+)/.exec(cli.stdout)![1]!;
    const exposition = await (await fetch(metricsURL)).text();
    expect(exposition).toMatch(new RegExp(`litestream_txid\\{db="${db.replace(/[.]/g, '\\.')}"\\} [1-9]\\d*`));
    expect(exposition).toMatch(/litestream_replica_operation_total\{replica_type="file",operation="PUT"\} [1-9]/);
    expect(exposition).toContain('litestream_db_size');
    await app.insert(50); // committed just before the signal
    const expected = await app.hash();
    cli.child.kill('SIGTERM');
    const exit = await cli.exited;
    expect(exit.code, cli.stderr).toBe(0);
    // Logs go to stdout unless logging.stderr is set, as in Litestream.
    expect(cli.stdout).toContain('msg="initialized db"');
    expect(cli.stdout).toContain('msg="replicating to"');
    expect(cli.stdout).toContain('msg="snapshot written"');

    const out = join(dir, 'cfg-restored.db');
    const r = litestream(['restore', '-config', config, '-o', out, '-integrity-check', 'full', db]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^restored .* to TXID [0-9a-f]{16} from \d+ file\(s\)/);
    expect(await sha256(out)).toBe(expected);

    const status = litestream(['status', '-config', config, '-json']);
    expect(status.status, status.stderr).toBe(0);
    const [s] = JSON.parse(status.stdout) as Array<{ path: string; localTXID: string; replicaTXID: string; lag: number }>;
    expect(s!.path).toBe(db);
    expect(s!.replicaTXID).toBe(s!.localTXID);
    expect(s!.lag).toBe(0);

    const ltx = litestream(['ltx', '-config', config, '-json', db]);
    const files = JSON.parse(ltx.stdout) as Array<{ level: number; minTXID: string; maxTXID: string; size: number }>;
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toMatchObject({ level: 0, minTXID: '0000000000000001' });
    expect(files.every((f) => f.size > 0)).toBe(true);
    const level0 = litestream(['ltx', '-config', config, '-level', '0', '-json', db]);
    expect((JSON.parse(level0.stdout) as unknown[]).length).toBe(files.filter((f) => f.level === 0).length);
    await app.close();
  }, 60_000);

  it('with sync-interval: 0, ships each commit as it lands, not on the (hour-long) monitor tick', async () => {
    const db = join(dir, 'event.db');
    const replica = join(dir, 'event-replica');
    const app = new AppProcess(db);
    await app.insert(2);
    const config = await writeConfig('event.yml', `dbs:\n  - path: ${db}\n    monitor-interval: 1h\n    replica:\n      url: file://${replica}\n      sync-interval: 0\n`);
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('snapshot written');
    const level0 = async () => (await readdir(join(replica, 'ltx', '0'))).filter((n) => n.endsWith('.ltx')).length;
    for (let i = 0; i < 3; i++) {
      const before = await level0();
      await app.insert(1);
      for (let wait = 0; wait < 100 && (await level0()) === before; wait++) await sleep(20);
      expect(await level0()).toBe(before + 1);
    }
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code, cli.stderr).toBe(0);
    await app.close();
  }, 60_000);

  it('replicates with the shorthand form and restores by -txid and by -timestamp', async () => {
    const db = join(dir, 'short.db');
    const replica = `file://${join(dir, 'short-replica')}`;
    const app = new AppProcess(db);
    await app.insert(1);
    const cli = new RunningCli(['replicate', db, replica]);
    await cli.waitFor('replicating to');
    const points: Array<{ txid: string; at: string; sha: string }> = [];
    for (let i = 0; i < 4; i++) {
      await app.insert(10);
      await sleep(1500); // one sync interval, so this state is in its own file
      const status = litestream(['ltx', '-json', replica]);
      const files = JSON.parse(status.stdout) as Array<{ maxTXID: string }>;
      points.push({ txid: files[files.length - 1]!.maxTXID, at: new Date().toISOString(), sha: await app.hash() });
    }
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
    for (const p of [points[0]!, points[2]!]) {
      const byTxid = join(dir, `short-${p.txid}.db`);
      const r = litestream(['restore', '-txid', p.txid, '-o', byTxid, replica]);
      expect(r.status, r.stderr).toBe(0);
      expect(await sha256(byTxid)).toBe(p.sha);
      const byTime = join(dir, `short-time-${p.txid}.db`);
      const t = litestream(['restore', '-timestamp', p.at, '-o', byTime, replica]);
      expect(t.status, t.stderr).toBe(0);
      expect(await sha256(byTime)).toBe(p.sha);
    }
    const plan = litestream(['restore', '-dry-run', '-json', '-o', join(dir, 'never.db'), replica]);
    expect(plan.status, plan.stderr).toBe(0);
    const parsed = JSON.parse(plan.stdout) as { txid: string; files: Array<{ file: string; size: number }> };
    expect(parsed.txid).toBe(points[3]!.txid);
    expect(parsed.files.length).toBeGreaterThan(0);
    await app.close();
  }, 60_000);

  it('passes the -exec command exit code through, after a final sync', async () => {
    const db = join(dir, 'exec.db');
    const app = new AppProcess(db);
    await app.insert(3);
    await app.close();
    const script = join(dir, 'app.sh');
    await writeFile(script, `sqlite3 ${db} "INSERT INTO t (body) VALUES ('from exec');"\nexit 7\n`);
    const r = litestream(['replicate', '-exec', `sh ${script}`, db, `file://${join(dir, 'exec-replica')}`]);
    expect(r.status, r.stderr).toBe(7);
    const out = join(dir, 'exec-restored.db');
    expect(litestream(['restore', '-o', out, `file://${join(dir, 'exec-replica')}`]).status).toBe(0);
    const check = litestream(['restore', '-dry-run', '-json', '-o', join(dir, 'x.db'), `file://${join(dir, 'exec-replica')}`]);
    expect(check.status).toBe(0);
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync('sqlite3', [out, "SELECT count(*) FROM t WHERE body = 'from exec'"]).toString().trim()).toBe('1');
  }, 60_000);

  it('-once syncs and exits; -force-snapshot writes a level-9 snapshot', async () => {
    const db = join(dir, 'once.db');
    const app = new AppProcess(db);
    await app.insert(30);
    const replica = `file://${join(dir, 'once-replica')}`;
    const r = litestream(['replicate', '-once', '-force-snapshot', '-enforce-retention', db, replica]);
    expect(r.status, r.stderr).toBe(0);
    const files = JSON.parse(litestream(['ltx', '-json', replica]).stdout) as Array<{ level: number }>;
    expect(files.some((f) => f.level === 9)).toBe(true);
    const out = join(dir, 'once-restored.db');
    expect(litestream(['restore', '-o', out, replica]).status).toBe(0);
    expect(await sha256(out)).toBe(await app.hash());
    await app.close();
  }, 60_000);
});
