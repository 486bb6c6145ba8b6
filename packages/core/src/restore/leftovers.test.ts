import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingLogger } from '../test-support/recording-logger.ts';
import { removeRestoreLeftovers, STALE_OWNER_MS, UNOWNED_GRACE_MS } from './leftovers.ts';
import { currentProcess, processIdentity, type ProcessIdentity } from './process-identity.ts';
import { OWNER_FILE, RestoreWorkDir, workDirPattern } from './work-dir.ts';

// Which work directories a restore of the same output removes at start: only ours (by name and
// owner file), and only those whose restore is gone. The owner files here are written by hand
// to describe each situation; the processes they name are real.
const scratch = await mkdtemp(join(tmpdir(), 'restore-leftovers-'));
let live: ChildProcess;
let dirs = 0;
let made = 0;
beforeAll(async () => {
  live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve) => live.once('spawn', resolve));
});
afterAll(async () => {
  live.kill('SIGKILL');
  await rm(scratch, { recursive: true, force: true });
});

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

async function setup(): Promise<{ dir: string; output: string }> {
  const dir = join(scratch, `out-${++dirs}`);
  await mkdir(dir);
  return { dir, output: join(dir, 'app.db') };
}

/** A work directory as a restore would have left it, with a partial database of `bytes`. */
async function leftover(output: string, owner: ProcessIdentity | undefined, options: { bytes?: number; ownerAgeMs?: number; dirAgeMs?: number } = {}): Promise<string> {
  const pid = owner?.pid ?? 12345;
  const path = join(output, '..', `.app.db.restore-${pid}-${(++made).toString(16).padStart(12, '0')}`);
  await mkdir(path);
  await writeFile(join(path, 'partial.db'), Buffer.alloc(options.bytes ?? 4096));
  if (owner) {
    await writeFile(join(path, OWNER_FILE), JSON.stringify({ ...owner, output, startedAt: new Date().toISOString() }));
    if (options.ownerAgeMs) await age(join(path, OWNER_FILE), options.ownerAgeMs);
  }
  if (options.dirAgeMs) await age(path, options.dirAgeMs);
  return path;
}

async function age(path: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  await utimes(path, then, then);
}

describe('removeRestoreLeftovers', () => {
  it('removes the work directory of a restore whose process is gone, and logs its path and size', async () => {
    const { dir, output } = await setup();
    const path = await leftover(output, { ...currentProcess(), pid: deadPid(), startTicks: undefined }, { bytes: 300_000 });
    const logger = new RecordingLogger();
    const removed = await removeRestoreLeftovers(output, logger);
    expect(removed.map((r) => r.path)).toEqual([path]);
    expect(await readdir(dir)).toEqual([]);
    const line = logger.records.find((r) => r.message === 'removed the files of an interrupted restore');
    expect(line?.fields).toMatchObject({ output, path });
    // The partial database and the owner file.
    expect(line?.fields.bytes).toBeGreaterThanOrEqual(300_000);
  });

  it('keeps the work directory of a restore still running in another process', async () => {
    const { dir, output } = await setup();
    const path = await leftover(output, processIdentity(live.pid!));
    const logger = new RecordingLogger();
    expect(await removeRestoreLeftovers(output, logger)).toEqual([]);
    expect(await readdir(dir)).toEqual([path.slice(dir.length + 1)]);
    expect(logger.records.find((r) => r.message === 'kept the files of a restore that is still running')?.fields).toMatchObject({ path, pid: live.pid });
  });

  it('keeps the work directory of a restore of this process, and removes one this process abandoned', async () => {
    const { dir, output } = await setup();
    const mine = await RestoreWorkDir.create(output);
    try {
      const abandoned = await leftover(output, currentProcess(), { bytes: 10 });
      const removed = await removeRestoreLeftovers(output, new RecordingLogger());
      expect(removed.map((r) => r.path)).toEqual([abandoned]);
      expect(await readdir(dir)).toEqual([mine.path.slice(dir.length + 1)]);
    } finally {
      await mine.remove();
    }
  });

  it.runIf(process.platform === 'linux')('a live pid that is now another process (another start time, or another boot) is not the owner', async () => {
    const { dir, output } = await setup();
    await leftover(output, { ...processIdentity(live.pid!), startTicks: '1' });
    expect(await removeRestoreLeftovers(output, new RecordingLogger())).toHaveLength(1);
    await leftover(output, { ...processIdentity(live.pid!), bootId: 'a-boot-before-a-reboot' });
    expect(await removeRestoreLeftovers(output, new RecordingLogger())).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('another host: kept while its heartbeat is fresh, removed once stale', async () => {
    const { dir, output } = await setup();
    const elsewhere = { pid: live.pid!, host: `not-${hostname()}` };
    const fresh = await leftover(output, elsewhere);
    const stale = await leftover(output, { ...elsewhere, pid: 4242 }, { ownerAgeMs: STALE_OWNER_MS + 60_000 });
    const removed = await removeRestoreLeftovers(output, new RecordingLogger());
    expect(removed.map((r) => r.path)).toEqual([stale]);
    expect(await readdir(dir)).toEqual([fresh.slice(dir.length + 1)]);
  });

  it('without an owner file: kept while young (being created), removed once old', async () => {
    const { dir, output } = await setup();
    const young = await leftover(output, undefined);
    expect(await removeRestoreLeftovers(output, new RecordingLogger())).toEqual([]);
    await age(young, UNOWNED_GRACE_MS + 60_000);
    expect((await removeRestoreLeftovers(output, new RecordingLogger())).map((r) => r.path)).toEqual([young]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('touches nothing that is not a work directory of a restore of this output', async () => {
    const { dir, output } = await setup();
    const dead = { ...currentProcess(), pid: deadPid(), startTicks: undefined };
    const names = [
      'app.db',
      'app.db-wal',
      'app.db.tmp-0123456789ab', // an older version's temporary database: owner unknown
      '.app.db.restore-AbC123', // an older version's staging directory: owner unknown
      '.app.db.restore-12-0123456789ab.bak', // not exactly the pattern
      '.other.db.restore-12-0123456789ab', // another output's
    ];
    for (const name of names) await mkdir(join(dir, name));
    const owner = JSON.stringify({ ...dead, output: join(dir, 'other.db') });
    await writeFile(join(dir, '.other.db.restore-12-0123456789ab', OWNER_FILE), owner);
    // A plain file and a symlink with a work directory's name were not made by a restore.
    await writeFile(join(dir, '.app.db.restore-13-0123456789ab'), 'a file');
    const target = join(dir, 'app.db');
    await symlink(target, join(dir, '.app.db.restore-14-0123456789ab'));
    expect(await removeRestoreLeftovers(output, new RecordingLogger())).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual([...names, '.app.db.restore-13-0123456789ab', '.app.db.restore-14-0123456789ab'].sort());
  });

  it('the name pattern is exact, whatever the output name holds', () => {
    const pattern = workDirPattern('/data/my.app (1).db');
    expect(pattern.test('.my.app (1).db.restore-77-0123456789ab')).toBe(true);
    expect(pattern.test('.my.app (1)Xdb.restore-77-0123456789ab')).toBe(false);
    expect(pattern.test('.my.app (1).db.restore-77-0123456789ab/')).toBe(false);
  });
});
