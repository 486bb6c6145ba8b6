import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import type { CliResult } from './cli-process.ts';

// The real built `litestream` as a user gets it from `npm install @litestream-ts/cli`: a project
// whose node_modules holds the CLI (a copy of this package's bin and dist), core, the file backend
// and the CLI's own dependencies, and no other backend. In the monorepo every backend is
// installed beside packages/cli (as dev dependencies), so the copy is what shows what a user
// without them sees. Also a `litestream-ts` meta-package install beside it, with backend-s3.
const CLI = resolve(import.meta.dirname, '../..');
const REPO = resolve(CLI, '../..');
const root = mkdtempSync(join(tmpdir(), 'lts-plugins-e2e-'));
const project = join(root, 'project');
const work = join(root, 'work');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function link(target: string, at: string): void {
  mkdirSync(dirname(at), { recursive: true });
  symlinkSync(realpathSync(target), at);
}

beforeAll(() => {
  const cli = join(project, 'node_modules/@litestream-ts/cli');
  mkdirSync(cli, { recursive: true });
  for (const part of ['package.json', 'bin', 'dist']) cpSync(join(CLI, part), join(cli, part), { recursive: true });
  link(join(REPO, 'packages/core'), join(project, 'node_modules/@litestream-ts/core'));
  link(join(REPO, 'backends/file'), join(project, 'node_modules/@litestream-ts/backend-file'));
  const deps = Object.keys((JSON.parse(readFileSync(join(CLI, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
  for (const dep of deps.filter((d) => !d.startsWith('@litestream-ts/'))) link(join(CLI, 'node_modules', dep), join(project, 'node_modules', dep));

  // The meta-package, nested as pnpm lays it out: its dependencies in its own node_modules.
  const meta = join(root, 'meta-project/node_modules/litestream-ts');
  cpSync(join(REPO, 'packages/litestream-ts/package.json'), join(meta, 'package.json'));
  cpSync(join(REPO, 'packages/litestream-ts/bin'), join(meta, 'bin'), { recursive: true });
  link(cli, join(meta, 'node_modules/@litestream-ts/cli'));
  link(join(REPO, 'backends/s3'), join(meta, 'node_modules/@litestream-ts/backend-s3'));

  // A third-party plugin in the project: the file backend under another scheme.
  mkdirSync(join(project, 'plugins'), { recursive: true });
  writeFileSync(
    join(project, 'plugins/myfile.mjs'),
    `import { fileBackend } from '@litestream-ts/backend-file';
const toFile = (url) => 'file://' + url.slice('myfile://'.length);
export default {
  type: 'myfile', schemes: ['myfile'], configKeys: [], description: 'the file backend under myfile://',
  fromURL: (url, context) => fileBackend.fromURL(toFile(url), context),
  fromConfig: (config, context) => fileBackend.fromURL(toFile(String(config.url)), context),
};
`,
  );
  mkdirSync(work, { recursive: true });
});

/** Runs a bin of the fake installs with `cwd` (default: a directory with no node_modules). */
function run(bin: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const env: Record<string, string | undefined> = { ...process.env, LITESTREAM_CONFIG: '', LITESTREAM_PLUGINS: '', ...options.env };
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: options.cwd ?? work, env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const litestream = (args: readonly string[], options?: Parameters<typeof run>[2]) => run(join(project, 'node_modules/@litestream-ts/cli/bin/litestream.js'), args, options);
const metaLitestream = (args: readonly string[], options?: Parameters<typeof run>[2]) => run(join(root, 'meta-project/node_modules/litestream-ts/bin/litestream.js'), args, options);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('@litestream-ts/cli installed without other backends (the real bin)', () => {
  it('names the package that serves a scheme or type it does not have', () => {
    const r = litestream(['restore', '-o', join(work, 'never.db'), 's3://bucket/db']);
    expect(r.stderr).toBe('litestream: s3:// needs @litestream-ts/backend-s3: npm install @litestream-ts/backend-s3 (installed backends: file (file://))\n');
    expect(r.status).toBe(1);

    const config = join(work, 'abs.yml');
    writeFileSync(config, `dbs:\n  - path: ${join(work, 'app.db')}\n    replica:\n      type: abs\n      bucket: c\n`);
    const c = litestream(['databases', '-config', config]);
    expect(c.stderr).toBe(`litestream: ${config}:4:13: dbs[0].replica.type: replica type "abs" needs @litestream-ts/backend-abs: npm install @litestream-ts/backend-abs (installed backends: file (file://))\n`);
    expect(c.status).not.toBe(0);
  });

  it('says in --help where backends come from', () => {
    const r = litestream(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "Backends: file is built in; others are used when installed beside this\ncommand or in the project (npm install @litestream-ts/backend-s3, ...),\nor when named by the config's plugins: or LITESTREAM_PLUGINS.",
    );
  });

  it('replicates and restores with its file backend', async () => {
    const db = join(work, 'plain.db');
    const app = new AppProcess(db);
    await app.insert(10);
    const replica = `file://${join(work, 'plain-replica')}`;
    const rep = litestream(['replicate', '-once', db, replica]);
    expect(rep.status, rep.stderr).toBe(0);
    const out = join(work, 'plain-restored.db');
    const res = litestream(['restore', '-o', out, replica]);
    expect(res.status, res.stderr).toBe(0);
    expect(sha256(out)).toBe(await app.hash());
    await app.close();
  });

  it('uses a plugin module named by LITESTREAM_PLUGINS (relative to the working directory) for replicate and restore', async () => {
    const db = join(work, 'env.db');
    const app = new AppProcess(db);
    await app.insert(10);
    const replica = `myfile://${join(work, 'env-replica')}`;
    const env = { LITESTREAM_PLUGINS: './plugins/myfile.mjs' };
    const rep = litestream(['replicate', '-once', db, replica], { cwd: project, env });
    expect(rep.status, rep.stderr).toBe(0);
    const out = join(work, 'env-restored.db');
    const res = litestream(['restore', '-o', out, replica], { cwd: project, env });
    expect(res.status, res.stderr).toBe(0);
    expect(sha256(out)).toBe(await app.hash());
    // The plugin wrote through the file backend: the replica is a file replica.
    const ltx = litestream(['ltx', `file://${join(work, 'env-replica')}`]);
    expect(ltx.stdout).toMatch(/^LEVEL\s+MIN_TXID/);
    expect(ltx.stdout).toMatch(/^0\s+0000000000000001\s/m);
    await app.close();

    const without = litestream(['restore', '-o', join(work, 'never.db'), replica], { cwd: project });
    expect(without.stderr).toBe('litestream: unknown replica URL scheme "myfile://"; installed backends: file (file://)\n');
  });

  it('uses a plugin module named by the config\'s plugins:, relative to the config file', async () => {
    const db = join(work, 'conf.db');
    const app = new AppProcess(db);
    await app.insert(10);
    mkdirSync(join(project, 'etc'), { recursive: true });
    const config = join(project, 'etc/litestream.yml');
    writeFileSync(config, `plugins:\n  - ../plugins/myfile.mjs\ndbs:\n  - path: ${db}\n    replica:\n      url: myfile://${join(work, 'conf-replica')}\n`);
    const rep = litestream(['replicate', '-once', '-config', config]);
    expect(rep.status, rep.stderr).toBe(0);
    const out = join(work, 'conf-restored.db');
    const res = litestream(['restore', '-config', config, '-o', out, db]);
    expect(res.status, res.stderr).toBe(0);
    expect(sha256(out)).toBe(await app.hash());
    await app.close();

    writeFileSync(config, `plugins: [../plugins/nope.mjs]\ndbs: []\n`);
    const broken = litestream(['databases', '-config', config]);
    expect(broken.stderr).toBe(`litestream: backend plugin ../plugins/nope.mjs (from config ${config}): ${join(project, 'plugins/nope.mjs')} does not exist\n`);
    expect(broken.status).toBe(1);
  });

  it('the litestream-ts meta-package bin also finds the backends installed beside it', () => {
    // backend-s3 is loaded (it asks for credentials) instead of being named as missing.
    const r = metaLitestream(['restore', '-o', join(work, 'never.db'), 's3://bucket/db'], { env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '', AWS_CONFIG_FILE: join(work, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(work, 'none') } });
    expect(r.stderr).not.toMatch(/needs @litestream-ts\/backend-s3/);
    expect(r.stderr).toMatch(/S3 credentials|credential/i);
    const version = metaLitestream(['version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^litestream-ts v/);
  });
});
