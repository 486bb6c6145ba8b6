import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { REPO_ROOT, installTarballs, installedCopies, pack, workspaceClosure } from './test-support/tarball-project.ts';

// The example third-party backend (examples/backend-myscheme, published as
// litestream-backend-myscheme) as its users meet it: packed, installed from its tarball next to
// the CLI's in a fresh npm project outside the monorepo, and found by that project's own
// `litestream` command with no configuration, only because it is installed.
const EXAMPLE = join(REPO_ROOT, 'examples/backend-myscheme');
const CLI = join(REPO_ROOT, 'packages/cli');

const dir = await mkdtemp(join(tmpdir(), 'lts-third-party-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe('a third-party backend installed from its tarball, used by the real CLI (myscheme://)', () => {
  const project = join(dir, 'project');
  let bin = '';
  // Only the project's own PATH entry for node: nothing of the monorepo is reachable from there.
  const env = { ...process.env, LITESTREAM_CONFIG: '', LITESTREAM_PLUGINS: '', NODE_OPTIONS: '', PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  const litestream = (args: readonly string[]): Run => {
    const r = spawnSync(bin, args, { cwd: project, env, encoding: 'utf8', timeout: 120_000 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('installs from tarballs into a fresh npm project, with one copy of core (the backend takes it as a peer)', async () => {
    const tarballs = join(dir, 'tarballs');
    await mkdir(tarballs);
    await mkdir(project);
    const packages = workspaceClosure([CLI, EXAMPLE]);
    const packed = [];
    for (const pkg of packages) packed.push(await pack(pkg, tarballs));
    await installTarballs(project, packed);

    bin = join(project, 'node_modules/.bin/litestream');
    expect(existsSync(bin), `${bin} after npm install`).toBe(true);
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/litestream-backend-myscheme/package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
    expect(manifest.peerDependencies['@litestream-ts/core']).toMatch(/^\^\d/);
    expect(installedCopies(project, '@litestream-ts/core')).toEqual([join(project, 'node_modules/@litestream-ts/core')]);
  }, 400_000);

  it('replicates a database being written to myscheme://, restores it equal, and lists its LTX files', async () => {
    expect(bin, 'the install case ran first').not.toBe('');
    const store = join(dir, 'replicas.sqlite');
    const url = `myscheme://${store}?path=apps/main`;
    const db = join(dir, 'app.db');
    const app = new AppProcess(db);
    try {
      await app.insert(5);
      const replicate = spawn(bin, ['replicate', db, url], { cwd: project, env });
      let output = '';
      replicate.stdout.on('data', (d: Buffer) => (output += d.toString()));
      replicate.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<number | null>((resolve) => replicate.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      while (!output.includes('snapshot written')) {
        if (replicate.exitCode !== null || Date.now() > deadline) throw new Error(`litestream replicate did not write a snapshot:\n${output}`);
        await sleep(50);
      }
      for (let i = 0; i < 10; i++) {
        await app.insert(3, i % 3 === 0 ? 5000 : 100);
        await sleep(30);
      }
      await app.insert(20); // committed just before the signal: the final sync must ship it
      const expected = await app.hash();
      replicate.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      expect(output).toContain(`replicating to`);
      expect(output).toContain('type=myscheme');

      const restored = join(dir, 'restored.db');
      const restore = litestream(['restore', '-o', restored, url]);
      expect(restore.status, restore.stderr).toBe(0);
      expect(await sha256(restored)).toBe(expected);

      const ltx = litestream(['ltx', '-json', url]);
      expect(ltx.status, ltx.stderr).toBe(0);
      const files = JSON.parse(ltx.stdout) as Array<{ level: number; minTXID: string; maxTXID: string; size: number }>;
      expect(files.length).toBeGreaterThan(1);
      expect(files[0]).toMatchObject({ level: 0, minTXID: '0000000000000001' });
      expect(files.every((f) => f.size > 0)).toBe(true);
      const text = litestream(['ltx', url]);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain(files[files.length - 1]!.maxTXID);
    } finally {
      await app.close();
    }
  }, 120_000);
});
