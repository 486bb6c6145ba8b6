import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { LITESTREAM_BIN, litestream, litestreamAsync, RunningCli, type CliResult } from './cli-process.ts';

// The control socket end to end: a real `replicate` (the built bin) with a writer process, and
// the commands as separate processes talking to it over the Unix socket.
const dir = await mkdtemp(join(tmpdir(), 'lts-ctl-'));
// Searchable by other users, so that the socket's own mode is what refuses them.
await chmod(dir, 0o755);
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

let configs = 0;
/**
 * Starts `replicate` with a config of a socket and databases (path → replica dir); `extra` goes
 * into the socket section. With a long `monitorInterval`, only the commands (and a final sync)
 * ship new commits.
 */
async function startReplicate(socket: string, dbs: Record<string, string>, extra = '', monitorInterval = '50ms'): Promise<{ cli: RunningCli; config: string }> {
  const config = join(dir, `config-${++configs}.yml`);
  const entries = Object.entries(dbs).map(([db, replica]) => `  - path: ${db}\n    monitor-interval: ${monitorInterval}\n    replica:\n      url: file://${replica}\n`);
  await writeFile(config, `socket:\n  enabled: true\n  path: ${socket}\n${extra}dbs:\n${entries.join('')}`);
  const cli = new RunningCli(['replicate', '-config', config]);
  await cli.waitFor('control socket listening');
  for (const db of Object.keys(dbs)) await cli.waitFor(`msg="replicating to" db=${db}`);
  return { cli, config };
}

async function stop(cli: RunningCli): Promise<void> {
  if (cli.child.exitCode !== null) return;
  cli.child.kill('SIGTERM');
  expect((await cli.exited).code, cli.stderr).toBe(0);
}

/** Runs a command and expects it to succeed. */
function ok(args: readonly string[]): CliResult {
  const r = litestream(args);
  expect(r.status, `litestream ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

function restoreHash(replica: string, name: string): Promise<string> {
  const out = join(dir, `${name}-restored-${Date.now()}.db`);
  ok(['restore', '-o', out, `file://${replica}`]);
  return sha256(out);
}

describe('control socket commands against a running replicate (real bin, writer process)', () => {
  it('list, info, sync -wait, stop/start, register/unregister: each does what it says and loses nothing', async () => {
    const socket = join(dir, 'main.sock');
    const db = join(dir, 'app.db');
    const replica = join(dir, 'app-replica');
    const app = new AppProcess(db);
    await app.insert(5);
    // Ticks an hour apart: whatever reaches the replica got there through a command or a final sync.
    const { cli, config } = await startReplicate(socket, { [db]: replica }, '', '1h');
    const configText = await readFile(config, 'utf8');
    const s = ['-socket', socket];
    expect(statSync(socket).mode & 0o777).toBe(0o600);

    // list and info.
    expect(ok(['list', ...s]).stdout).toMatch(new RegExp(`^${db.replace(/[.]/g, '\\.')} \\[replicating\\] \\(last sync: \\d{4}-\\d\\d-\\d\\dT[^)]+\\)\\n$`));
    const listed = JSON.parse(ok(['list', ...s, '-json']).stdout) as { databases: Array<{ path: string; status: string; txid: number }> };
    expect(listed.databases).toMatchObject([{ path: db, status: 'replicating' }]);
    const daemon = ok(['info', ...s]).stdout;
    expect(daemon).toContain(`PID:        ${cli.child.pid}`);
    expect(daemon).toContain('Databases:  1');
    const info = JSON.parse(ok(['info', ...s, '-json', db]).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ path: db, status: 'replicating', replica: `file://${replica}`, source: 'config', healthy: true });
    expect(info.txid).toBeGreaterThan(0);

    // sync -wait: once it returns, a restore holds the last commit.
    await app.insert(40, 500);
    const expected = await app.hash();
    const synced = JSON.parse(ok(['sync', ...s, '-wait', '-json', db]).stdout) as { db_path: string; txid: number; replica_txid: number; duration_ms: number };
    expect(synced.db_path).toBe(db);
    expect(synced.replica_txid).toBe(synced.txid);
    expect(await restoreHash(replica, 'app')).toBe(expected);
    const text = ok(['info', ...s, db]).stdout;
    expect(text).toContain(`txid: ${synced.txid}\nreplica_txid: ${synced.txid}\nlag: 0\nin_sync: true\n`);
    // Without -wait it asks for a sync and returns.
    expect(ok(['sync', ...s, db]).stdout).toMatch(new RegExp(`^db_path: ${db.replace(/[.]/g, '\\.')}\\ntxid: \\d+\\nduration_ms: \\d+\\n$`));

    // stop: final sync, then the database is released (reset sees no replicator) but still listed.
    await app.insert(3);
    const stopped = ok(['stop', ...s, db]).stdout;
    expect(stopped).toContain(`status: stopped\ndb_path: ${db}\nstate: stopped\n`);
    expect(await restoreHash(replica, 'app')).toBe(await app.hash());
    expect(ok(['reset', '-dry-run', db]).stdout).not.toContain('being replicated');
    expect(ok(['list', ...s]).stdout).toContain(`${db} [stopped]`);
    expect(ok(['stop', ...s, db]).stdout).toContain('status: already_stopped');
    const whileStopped = litestream(['sync', ...s, '-wait', db]);
    expect(whileStopped.status).toBe(1);
    expect(whileStopped.stderr).toBe(`litestream: sync failed: database ${db} is stopped; run litestream start ${db} first\n`);

    // Writes while stopped, a checkpoint that moves them into the database file, then start: nothing is lost.
    await app.insert(30, 300);
    await app.request({ op: 'pragma', sql: 'wal_checkpoint(TRUNCATE)' });
    await app.insert(7);
    const started = JSON.parse(ok(['start', ...s, '-json', db]).stdout) as Record<string, unknown>;
    expect(started).toMatchObject({ status: 'started', db_path: db, state: 'running', socket });
    expect(ok(['start', ...s, db]).stdout).toContain('status: already_running');
    ok(['sync', ...s, '-wait', db]);
    expect(await restoreHash(replica, 'app')).toBe(await app.hash());

    // register / unregister: another database, replicated without a restart or a config change.
    const other = join(dir, 'other.db');
    const otherReplica = join(dir, 'other-replica');
    const otherApp = new AppProcess(other);
    await otherApp.insert(10);
    const registered = ok(['register', ...s, '-replica', `file://${otherReplica}`, other]).stdout;
    expect(registered).toBe(`status: registered\ndb_path: ${other}\nreplica: file://${otherReplica}\nsocket: ${socket}\n`);
    expect(ok(['register', ...s, '-replica', `file://${otherReplica}`, other]).stdout).toContain('status: already registered');
    const conflict = litestream(['register', ...s, '-replica', `file://${join(dir, 'elsewhere')}`, other]);
    expect(conflict.status).toBe(1);
    expect(conflict.stderr).toMatch(/register failed: database .*other\.db is already replicated here \(to file:\/\/.*other-replica\); unregister it first/);
    expect(JSON.parse(ok(['info', ...s, '-json', other]).stdout)).toMatchObject({ source: 'register', replica: `file://${otherReplica}` });
    await otherApp.insert(20);
    ok(['sync', ...s, '-wait', other]);
    expect(await restoreHash(otherReplica, 'other')).toBe(await otherApp.hash());
    expect(ok(['list', ...s]).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual([db, other]);
    await otherApp.insert(4);
    const unregistered = ok(['unregister', ...s, other]).stdout;
    expect(unregistered).toMatch(new RegExp(`^status: unregistered\\ndb_path: ${other.replace(/[.]/g, '\\.')}\\nfinal_txid: \\d+\\nsocket: `));
    // Its final sync shipped the last commits; it is released and forgotten.
    expect(await restoreHash(otherReplica, 'other')).toBe(await otherApp.hash());
    expect(ok(['reset', '-dry-run', other]).stdout).not.toContain('being replicated');
    expect(ok(['list', ...s]).stdout).not.toContain(other);

    // Unknown databases name the known ones.
    const unknown = litestream(['unregister', ...s, other]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe(`litestream: unregister failed: database ${other} is not replicated by this litestream replicate; known databases: ${db}\n`);
    const unknownInfo = litestream(['info', ...s, join(dir, 'nope.db')]);
    expect(unknownInfo.stderr).toContain(`known databases: ${db}`);
    // A replica URL no backend serves is refused before anything is opened.
    const badURL = litestream(['register', ...s, '-replica', 'nosuch://bucket/x', other]);
    expect(badURL.status).toBe(1);
    expect(badURL.stderr).toMatch(/^litestream: register failed: replica\.url: .*nosuch/);
    const missing = litestream(['register', ...s, '-replica', `file://${otherReplica}`, join(dir, 'missing.db')]);
    expect(missing.stderr).toBe(`litestream: register failed: database file "${join(dir, 'missing.db')}" does not exist\n`);

    // The config file was never touched; the socket goes away with replicate.
    expect(await readFile(config, 'utf8')).toBe(configText);
    await stop(cli);
    expect(existsSync(socket)).toBe(false);
    expect(await restoreHash(replica, 'app')).toBe(await app.hash());
    await app.close();
    await otherApp.close();
  }, 120_000);

  it('never reports a sync or a stop that did not reach the replica: sync -wait fails and stop says its final sync did not complete', async () => {
    const socket = join(dir, 'failing.sock');
    const db = join(dir, 'failing.db');
    const replica = join(dir, 'failing-replica');
    const app = new AppProcess(db);
    await app.insert(5);
    const { cli } = await startReplicate(socket, { [db]: replica });
    const s = ['-socket', socket];
    ok(['sync', ...s, '-wait', db]);

    // The replica fails: its directory is replaced by a file (root ignores modes, not this).
    await rename(replica, `${replica}.away`);
    await writeFile(replica, 'not a directory');
    await app.insert(10);
    const sync = litestream(['sync', ...s, '-wait', '-timeout', '1', db]);
    expect(sync.status).toBe(1);
    // It fails as soon as the store does (or, against a store that hangs, at -timeout).
    expect(sync.stderr).toMatch(new RegExp(`^litestream: sync failed: the replica of ${db.replace(/[.]/g, '\\.')} does not hold everything yet: ENOTDIR: .+\\n$`));
    const info = JSON.parse(ok(['info', ...s, '-json', db]).stdout) as { in_sync: boolean; lag: number; last_error?: string };
    expect(info.in_sync).toBe(false);
    expect(info.lag).toBeGreaterThan(0);
    expect(info.last_error).toBeTruthy();

    const stopped = litestream(['stop', ...s, '-timeout', '1', db]);
    expect(stopped.status).toBe(1);
    expect(stopped.stderr).toMatch(/^litestream: stop failed: .*failing\.db is released, but its final sync did not complete: final sync incomplete: /);
    expect(ok(['list', ...s]).stdout).toContain(`${db} [stopped]`);

    // Repaired, started again: everything reaches the replica.
    await rm(replica);
    await rename(`${replica}.away`, replica);
    ok(['start', ...s, db]);
    ok(['sync', ...s, '-wait', db]);
    expect(await restoreHash(replica, 'failing')).toBe(await app.hash());
    await stop(cli);
    await app.close();
  }, 60_000);

  it('starts with no databases when the socket is enabled, and register adds the first', async () => {
    const socket = join(dir, 'empty.sock');
    const config = join(dir, 'empty.yml');
    await writeFile(config, `socket:\n  enabled: true\n  path: ${socket}\n`);
    const cli = new RunningCli(['replicate', '-config', config]);
    await cli.waitFor('control socket listening');
    expect(cli.stdout).toContain('msg="the config lists no databases; add them with litestream register"');
    expect(ok(['list', '-socket', socket]).stdout).toBe('No databases configured\n');
    const db = join(dir, 'late.db');
    const replica = join(dir, 'late-replica');
    const app = new AppProcess(db);
    await app.insert(25);
    ok(['register', '-socket', socket, '-replica', `file://${replica}`, db]);
    await app.insert(5);
    ok(['sync', '-socket', socket, '-wait', db]);
    expect(await restoreHash(replica, 'late')).toBe(await app.hash());
    await stop(cli);
    // Without a socket, a config without databases is still refused.
    await writeFile(config, 'logging:\n  level: info\n');
    const refused = litestream(['replicate', '-config', config]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('litestream: the config lists no databases (dbs:)\n');
    await app.close();
  }, 60_000);

  it('says how to fix a missing socket, naming its path; flags are checked', () => {
    const missing = join(dir, 'missing.sock');
    for (const args of [['list'], ['info'], ['sync', 'x.db'], ['stop', 'x.db']]) {
      const r = litestream([...args, '-socket', missing]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toBe(`litestream: no control socket at ${missing}: is litestream replicate running with socket.enabled? (another path: -socket PATH)\n`);
    }
    const noReplica = litestream(['register', '-socket', missing, 'x.db']);
    expect(noReplica.status).toBe(2);
    expect(noReplica.stderr).toContain('-replica is required');
    const badTimeout = litestream(['list', '-socket', missing, '-timeout', '0']);
    expect(badTimeout.status).toBe(2);
    expect(badTimeout.stderr).toContain('-timeout must be a number of seconds greater than 0');
  });

  it('refuses a second replicate on the same socket in one line, before opening its databases; replaces a stale socket file', async () => {
    const socket = join(dir, 'shared.sock');
    const a = join(dir, 'first.db');
    const b = join(dir, 'second.db');
    const appA = new AppProcess(a);
    const appB = new AppProcess(b);
    await appA.insert(1);
    await appB.insert(1);
    const first = await startReplicate(socket, { [a]: join(dir, 'first-replica') });
    const config = join(dir, 'second.yml');
    await writeFile(config, `socket:\n  enabled: true\n  path: ${socket}\ndbs:\n  - path: ${b}\n    replica:\n      url: file://${join(dir, 'second-replica')}\n`);
    const second = await litestreamAsync(['replicate', '-config', config]);
    expect(second.status).toBe(1);
    expect(second.stderr).toBe(`litestream: control socket ${socket} is in use by another litestream replicate; stop it or set another socket.path\n`);
    expect(second.stdout).not.toContain('initialized db');
    // The first one still answers.
    expect(ok(['list', '-socket', socket]).stdout).toContain(a);

    // Killed without a chance to clean up, it leaves its socket file: the next replicate replaces it.
    first.cli.child.kill('SIGKILL');
    await first.cli.exited;
    expect(existsSync(socket)).toBe(true);
    const stale = litestream(['list', '-socket', socket]);
    expect(stale.stderr).toContain('is litestream replicate running with socket.enabled?');
    const third = new RunningCli(['replicate', '-config', config]);
    await third.waitFor('msg="replicating to"');
    const info = JSON.parse(ok(['info', '-socket', socket, '-json']).stdout) as { pid: number };
    expect(info.pid).toBe(third.child.pid);
    await stop(third);
    await appA.close();
    await appB.close();
  }, 60_000);
});

// Another user must not reach a 0600 socket. Proving it takes a second uid, which root can take
// on (setpriv); CI runs as root, so there it must not be skipped.
const isRoot = process.getuid?.() === 0;
const setpriv = spawnSync('setpriv', ['--version']).status === 0;
const permissionSkip = !isRoot ? 'not running as root, so no process of another uid can be started' : !setpriv ? 'setpriv (util-linux) is not installed' : undefined;
if (permissionSkip && process.env.CI === 'true') throw new Error(`the socket permission test needs another uid: ${permissionSkip}`);
if (permissionSkip) console.warn(`[control-socket] permission test skipped: ${permissionSkip}`);

/** `litestream ARGS…` as the user nobody (uid 65534). */
function asNobody(args: readonly string[]): CliResult {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, LITESTREAM_BIN, ...args], { encoding: 'utf8', env: { ...process.env, LITESTREAM_CONFIG: '' }, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(permissionSkip !== undefined)(`control socket permissions${permissionSkip ? ` (skipped: ${permissionSkip})` : ''}`, () => {
  it('refuses another uid with the default mode 0600, and lets it in with socket.permissions: 0666', async () => {
    const db = join(dir, 'perm.db');
    const app = new AppProcess(db);
    await app.insert(1);
    const socket = join(dir, 'perm.sock');
    const closed = await startReplicate(socket, { [db]: join(dir, 'perm-replica') });
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const refused = asNobody(['list', '-socket', socket]);
    expect(refused.status, refused.stderr).toBe(1);
    expect(refused.stderr).toBe(`litestream: permission denied on the control socket ${socket}: run as the user of litestream replicate, or widen socket.permissions (default 0600)\n`);
    const stopAttempt = asNobody(['stop', '-socket', socket, db]);
    expect(stopAttempt.status).toBe(1);
    expect(ok(['list', '-socket', socket]).stdout).toContain(`${db} [replicating]`);
    await stop(closed.cli);

    // The same command as the same user works once the mode allows it: the refusal was the mode's.
    const open = await startReplicate(socket, { [db]: join(dir, 'perm-replica') }, '  permissions: 0666\n');
    expect(statSync(socket).mode & 0o777).toBe(0o666);
    const allowed = asNobody(['list', '-socket', socket]);
    expect(allowed.status, allowed.stderr).toBe(0);
    expect(allowed.stdout).toContain(`${db} [replicating]`);
    await stop(open.cli);
    await app.close();
  }, 60_000);
});
