import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { litestream, type CliResult } from './cli-process.ts';

// The real bin runs with a `--import` hook that records the URL of every module it loads (ES
// modules, CommonJS requires, built-ins) and can make one package unresolvable, as if it were
// not installed. What a command loads is then read from the list, not inferred.
const dir = await mkdtemp(join(tmpdir(), 'lts-lazy-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
const HOOK = join(dir, 'record-modules.mjs');
await writeFile(
  HOOK,
  `import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const loaded = [];
const blocked = process.env.LTS_TEST_BLOCK_PACKAGE;
registerHooks({
  resolve(specifier, context, nextResolve) {
    if (blocked && specifier === blocked) {
      throw Object.assign(new Error("Cannot find package '" + specifier + "' (hidden by the test)"), { code: 'ERR_MODULE_NOT_FOUND' });
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => writeFileSync(process.env.LTS_RECORD_MODULES, loaded.join('\\n') + '\\n'));
`,
);

let runs = 0;
/** Runs the bin under the hook; returns its result and the URLs of the modules it loaded. */
function traced(args: readonly string[], options: { block?: string } = {}): CliResult & { modules: string[] } {
  const record = join(dir, `modules-${++runs}.txt`);
  const r = litestream(args, {
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(HOOK).href}`.trim(),
      LTS_RECORD_MODULES: record,
      ...(options.block ? { LTS_TEST_BLOCK_PACKAGE: options.block } : {}),
    },
  });
  return { ...r, modules: readFileSync(record, 'utf8').split('\n').filter(Boolean) };
}

/** The SDKs behind the s3, abs, gs, nats, sftp and webdav backends (and their own dependencies named after them). */
const SDKS = /\/node_modules\/(@aws-sdk|@smithy|@azure|@google-cloud|google-auth-library|nats|ssh2|ssh2-sftp-client|fast-xml-parser)\//;
/** What `version` and help must not load: core, the backends, and the heavy dependencies of the commands. */
const HEAVY = /\/node_modules\/(yaml|prom-client|cli-progress|better-sqlite3|lz4-napi|@modelcontextprotocol|zod)\/|\/(packages\/core|@litestream-ts\/core)\/dist\/|\/(backends\/[^/]+|@litestream-ts\/backend-[^/]+)\/dist\//;
/** Each backend's own module (the one that imports its SDK), by type. */
const BACKEND_MODULE = {
  file: /\/file\/dist\/file-backend\.js$/,
  s3: /\/s3\/dist\/s3-backend\.js$/,
  abs: /\/abs\/dist\/abs-backend\.js$/,
  gs: /\/gcs\/dist\/gcs-backend\.js$/,
  nats: /\/nats\/dist\/nats-backend\.js$/,
  sftp: /\/sftp\/dist\/sftp-backend\.js$/,
  webdav: /\/webdav\/dist\/webdav-backend\.js$/,
};
const matching = (modules: readonly string[], pattern: RegExp) => modules.filter((m) => pattern.test(m));
const loadedBackends = (modules: readonly string[]) => Object.entries(BACKEND_MODULE).filter(([, p]) => modules.some((m) => p.test(m))).map(([type]) => type);
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('the litestream bin loads only what a command uses (module trace of the real bin)', () => {
  it('version, --help and restore --help load commander and the commands, not core, a backend or an SDK', () => {
    for (const args of [['version'], ['--help'], ['restore', '--help']]) {
      const r = traced(args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout).not.toBe('');
      // The hook saw the modules that are loaded: the trace is not empty by accident.
      expect(matching(r.modules, /\/node_modules\/commander\//).length, args.join(' ')).toBeGreaterThan(0);
      expect(matching(r.modules, HEAVY), args.join(' ')).toEqual([]);
      expect(matching(r.modules, SDKS), args.join(' ')).toEqual([]);
    }
  });

  it('the control socket commands are HTTP clients: they load the client, not core, a backend, the config loader or an SDK', () => {
    const socket = join(dir, 'none.sock');
    for (const args of [['list'], ['info', 'x.db'], ['sync', '-wait', 'x.db'], ['start', 'x.db'], ['stop', 'x.db'], ['register', '-replica', 's3://b/p', 'x.db'], ['unregister', 'x.db']]) {
      const r = traced([...args, '-socket', socket]);
      // No replicate serves it: the command got as far as connecting, with every module it uses loaded.
      expect(r.stderr, args.join(' ')).toContain('is litestream replicate running with socket.enabled?');
      expect(matching(r.modules, /\/control\/control-client\.(js|ts)$/).length, args.join(' ')).toBe(1);
      expect(matching(r.modules, HEAVY), args.join(' ')).toEqual([]);
      expect(matching(r.modules, SDKS), args.join(' ')).toEqual([]);
    }
  });

  it('replicate and restore through a file:// replica load the file backend and no other backend or SDK', async () => {
    const db = join(dir, 'app.db');
    const replica = `file://${join(dir, 'replica')}`;
    const app = new AppProcess(db);
    await app.insert(20);

    const replicate = traced(['replicate', '-once', db, replica]);
    expect(replicate.status, replicate.stderr).toBe(0);
    expect(loadedBackends(replicate.modules)).toEqual(['file']);
    expect(matching(replicate.modules, SDKS)).toEqual([]);
    // The MCP SDK loads only for a config with mcp-addr.
    expect(matching(replicate.modules, /\/node_modules\/(@modelcontextprotocol|zod|hono|express)\//)).toEqual([]);

    const out = join(dir, 'restored.db');
    const restore = traced(['restore', '-o', out, replica]);
    expect(restore.status, restore.stderr).toBe(0);
    expect(await sha256(out)).toBe(await app.hash());
    expect(loadedBackends(restore.modules)).toEqual(['file']);
    expect(matching(restore.modules, SDKS)).toEqual([]);
    // xxHash32 only serves files whose pages are LZ4 frames (Litestream v0.5.0 – v0.5.15), not ours.
    expect(matching(restore.modules, /\/node_modules\/(xxhash-wasm|js-xxhash)\//)).toEqual([]);
    await app.close();
  });

  it('finding the backends imports each installed backend\'s ./plugin module and no backend module or SDK', async () => {
    const config = join(dir, 'no-dbs.yml');
    await writeFile(config, 'dbs: []\n');
    const r = traced(['databases', '-config', config]);
    expect(r.status, r.stderr).toBe(0);
    // Beside the CLI in this checkout: all six backends (the monorepo's dev dependencies).
    const plugins = matching(r.modules, /\/(backends\/[^/]+|@litestream-ts\/backend-[^/]+)\/dist\/plugin\.js$/).map((m) => /\/(?:backends\/|backend-)([^/]+)\/dist\/plugin\.js$/.exec(m)![1]);
    expect(plugins.sort()).toEqual(['abs', 'file', 'gcs', 'nats', 's3', 'sftp', 'webdav']);
    expect(loadedBackends(r.modules)).toEqual([]);
    expect(matching(r.modules, SDKS)).toEqual([]);
  });

  it('a nats:// URL loads the NATS client on first use, and only it', () => {
    // Nothing listens on port 1: the command fails to connect, after loading its backend.
    const r = traced(['restore', '-o', join(dir, 'never.db'), 'nats://127.0.0.1:1/bucket']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nats connect to nats:\/\/127\.0\.0\.1:1 failed/);
    expect(loadedBackends(r.modules)).toEqual(['nats']);
    const sdks = new Set(matching(r.modules, SDKS).map((m) => SDKS.exec(m)![1]));
    expect([...sdks]).toEqual(['nats']);
  });

  it('a backend whose SDK is missing says which backend, which package and why; other backends still work', async () => {
    const r = traced(['restore', '-o', join(dir, 'never.db'), 'nats://127.0.0.1:1/bucket'], { block: 'nats' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("litestream: cannot load the nats backend from @litestream-ts/backend-nats: Cannot find package 'nats' (hidden by the test)\n");

    const db = join(dir, 'other.db');
    const app = new AppProcess(db);
    await app.insert(3);
    const replica = `file://${join(dir, 'other-replica')}`;
    expect(traced(['replicate', '-once', db, replica], { block: 'nats' }).status).toBe(0);
    const restore = traced(['restore', '-o', join(dir, 'other-restored.db'), replica], { block: 'nats' });
    expect(restore.status, restore.stderr).toBe(0);
    await app.close();
  });
});
