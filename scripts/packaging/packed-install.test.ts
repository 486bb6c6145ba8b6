import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIBRARY_EXAMPLE, runLibraryExampleTwice } from './library-example.ts';
import { installPacked, type PackedInstall } from './packed-install.ts';
import { COPY_A_VERSION, HOST_PROGRAM, HOST_TYPES, layOutTwoCopies } from './two-copies.ts';
import { ROOT } from './workspace.ts';

// One `npm install` of the packed tarballs per run, shared by every case below: what users get
// from npm, outside the monorepo (no workspace links, no TypeScript sources, no hoisting luck).
let install: PackedInstall;
beforeAll(() => {
  install = installPacked();
}, 600_000);
afterAll(() => {
  if (install) rmSync(dirname(install.dir), { recursive: true, force: true });
});

const node = (args: string[], cwd: string) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
const litestream = (args: string[], cwd: string) => execFileSync(join(install.dir, 'node_modules/.bin/litestream'), args, { cwd, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });

describe('packed packages installed with npm in a fresh project', () => {
  it('run the README library example: first with nothing to restore, then restoring', () => {
    const cwd = join(install.dir, 'example');
    mkdirSync(cwd);
    const script = join(install.dir, 'replicate.ts'); // beside node_modules, as a user's file would be
    copyFileSync(LIBRARY_EXAMPLE, script);
    const runs = runLibraryExampleTwice(script, cwd, install.dir);
    expect(runs.outputs[0]).toMatch(/inSync: true/);
    expect(runs.ltxFiles).toBeGreaterThan(0);
    expect(runs.rows).toEqual([1, 2]);
  });

  it('run litestream replicate and litestream restore from the installed bin', () => {
    const cwd = join(install.dir, 'cli');
    mkdirSync(cwd);
    writeFileSync(
      join(cwd, 'write.cjs'),
      `const D = require(require.resolve('better-sqlite3', { paths: [${JSON.stringify(install.dir)}] }));
const db = new D('app.db'); db.pragma('journal_mode = WAL');
db.exec('CREATE TABLE IF NOT EXISTS t (x TEXT)'); db.prepare('INSERT INTO t VALUES (?)').run(process.argv[2]); db.close();`,
    );
    const replica = `file://${join(cwd, 'replica')}`;
    node(['write.cjs', 'first'], cwd);
    litestream(['replicate', '-once', 'app.db', replica], cwd);
    node(['write.cjs', 'second'], cwd);
    litestream(['replicate', '-once', 'app.db', replica], cwd);
    litestream(['restore', '-o', 'restored.db', replica], cwd);
    const rows = node(['-e', `const D = require(require.resolve('better-sqlite3', { paths: [${JSON.stringify(install.dir)}] })); console.log(JSON.stringify(new D('restored.db').prepare('SELECT x FROM t ORDER BY rowid').pluck().all()))`], cwd);
    expect(JSON.parse(rows)).toEqual(['first', 'second']);
    expect(litestream(['version'], cwd)).toMatch(/v\d+\.\d+\.\d+/);
  });

  it('installs no other backend, no SDK and no MCP SDK with the CLI alone; a config with mcp-addr says what to install, before opening any database', () => {
    expect(install.cliPackage).toBe('@litestream-ts/cli');
    const installed = (dir: string) => existsSync(join(install.dir, 'node_modules', dir));
    for (const backend of ['s3', 'abs', 'gcs', 'nats', 'sftp', 'webdav']) expect(installed(`@litestream-ts/backend-${backend}`), backend).toBe(false);
    for (const sdk of ['@aws-sdk', '@azure', '@google-cloud', 'nats', 'ssh2', '@modelcontextprotocol/sdk', 'express']) expect(installed(sdk), sdk).toBe(false);
    const cwd = join(install.dir, 'mcp');
    mkdirSync(cwd);
    node(['-e', `const D = require(require.resolve('better-sqlite3', { paths: [${JSON.stringify(install.dir)}] })); const db = new D('app.db'); db.pragma('journal_mode = WAL'); db.exec('CREATE TABLE t (x)'); db.close();`], cwd);
    writeFileSync(join(cwd, 'litestream.yml'), `mcp-addr: "127.0.0.1:0"\ndbs:\n  - path: ${join(cwd, 'app.db')}\n    replica:\n      url: file://${join(cwd, 'replica')}\n`);
    const run = spawnSync(join(install.dir, 'node_modules/.bin/litestream'), ['replicate', '-config', 'litestream.yml'], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain('mcp-addr needs the MCP SDK');
    expect(run.stderr).toContain('npm install @modelcontextprotocol/sdk zod');
    // Refused before the database was opened: no replica, no meta directory.
    expect(readdirSync(cwd).sort()).toEqual(['app.db', 'litestream.yml']);
  });
});

describe('two copies of @litestream-ts/core (a backend whose peer resolved to another version)', () => {
  let dir: string;
  beforeAll(() => {
    dir = layOutTwoCopies(install);
  });

  it("the host's copy recognises the backend copy's errors and Leaser.renew() throws its own LeaseLostError", () => {
    writeFileSync(join(dir, 'host.mjs'), HOST_PROGRAM);
    mkdirSync(join(dir, 'work'));
    const result = JSON.parse(node(['host.mjs', join(dir, 'work')], dir)) as Record<string, unknown>;
    // The two copies really are two: the backend loads copy A, the host copy B.
    expect(result.backendCore).toBe(COPY_A_VERSION);
    expect(result.hostCore).not.toBe(COPY_A_VERSION);
    expect(result.clientIsReplicaClient).toBe(true);
    expect(result.acquired).toBe(true);
    expect(result.renew).toEqual({ name: 'LeaseLostError', errorCode: 'LITESTREAM_LEASE_LOST', hostClass: true, instanceOfHost: true, isLitestreamError: true });
    // Errors made by copy A (not the host's classes) pass the host's instanceof and code checks.
    expect(result.notFound).toEqual({ name: 'NotFoundError', errorCode: 'LITESTREAM_NOT_FOUND', hostClass: false, instanceOfHost: true, isLitestreamError: true });
    expect(result.usage).toEqual({ name: 'UsageError', errorCode: 'LITESTREAM_USAGE', hostClass: false, instanceOfHost: true, isLitestreamError: true });
    expect(result.precondition).toEqual({ name: 'PreconditionFailedError', errorCode: 'LITESTREAM_PRECONDITION_FAILED', hostClass: false, instanceOfHost: true, isLitestreamError: true });
    // The host's Store and restore run with a client built against copy A.
    expect(result.restored).toBe(42);
  });

  it("tsc accepts copy A's client and plugins where copy B's Store, restore, Leaser and registry want them", () => {
    writeFileSync(join(dir, 'host.ts'), HOST_TYPES);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', lib: ['ES2023'], strict: true, noEmit: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['host.ts'],
      }),
    );
    let output = '';
    try {
      output = node([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
    } catch (error) {
      output = `${(error as { stdout: string }).stdout}`;
    }
    expect(output).toBe('');
  });
});
