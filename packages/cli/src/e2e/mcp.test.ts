import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from '@litestream-ts/testcontainers';
import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess } from '../../../core/src/test-support/app-process.ts';
import { RunningCli } from './cli-process.ts';

// `replicate` with `mcp-addr`, a writer process, and the MCP SDK's own client over Streamable
// HTTP: every tool, and the refusals of restore.
const dir = await mkdtemp(join(tmpdir(), 'lts-mcp-'));
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});
const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tools/list request sent with chosen Host and Origin headers (fetch cannot set Host). */
function rawPost(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(body), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

type ToolResult = { isError?: boolean; content: Array<{ type: string; text?: string }> };
const textOf = (result: ToolResult): string => result.content.map((c) => c.text ?? '').join('');

describe('replicate serves MCP tools on mcp-addr (SDK client, real replicate, writer process)', () => {
  it('lists databases, reports status, lists LTX files, plans and performs a restore to a new path, and refuses existing paths', async () => {
    const db = join(dir, 'app.db');
    const other = join(dir, 'other.db');
    const replica = join(dir, 'replica');
    const app = new AppProcess(db);
    cleanups.push(() => app.close());
    const second = new AppProcess(other);
    cleanups.push(() => second.close());
    await app.insert(20, 500);
    await second.insert(1);
    const port = await freePort();
    const config = join(dir, 'litestream.yml');
    await writeFile(
      config,
      `mcp-addr: 127.0.0.1:${port}\ndbs:\n` +
        `  - path: ${db}\n    monitor-interval: 100ms\n    replica:\n      url: file://${replica}\n` +
        `  - path: ${other}\n    monitor-interval: 100ms\n    replica:\n      url: file://${join(dir, 'other-replica')}\n`,
    );
    const cli = new RunningCli(['replicate', '-config', config]);
    cleanups.push(async () => {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    });
    await cli.waitFor('serving MCP on');
    expect(cli.stdout + cli.stderr).toContain(`http://127.0.0.1:${port}/`);

    const client = new Client({ name: 'litestream-ts-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/`)));
    cleanups.push(() => client.close());
    const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => (await client.callTool({ name, arguments: args })) as ToolResult;
    const json = async <T>(name: string, args: Record<string, unknown> = {}): Promise<T> => {
      const result = await call(name, args);
      expect(result.isError, `${name}: ${textOf(result)}`).toBeFalsy();
      return JSON.parse(textOf(result)) as T;
    };

    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['litestream_databases', 'litestream_ltx', 'litestream_restore', 'litestream_restore_plan', 'litestream_status']);
    for (const tool of tools) expect(tool.annotations?.readOnlyHint, tool.name).toBe(tool.name !== 'litestream_restore');

    // More commits while replicate runs, each waited for until the replica holds it (a TXID
    // counts a sync, which may carry several commits), so there are earlier states to plan for.
    type Status = { path: string; replica: string; localTXID: string; replicaTXID: string; lagTXIDs: number; inSync: boolean; healthy: boolean };
    const synced = async (after: number): Promise<Status> => {
      let last: Status | undefined;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(50)) {
        last = await json<Status>('litestream_status', { database: db });
        if (last.inSync && last.replicaTXID === last.localTXID && Number.parseInt(last.replicaTXID, 16) > after) return last;
      }
      throw new Error(`the replica did not pass TXID ${after}: ${JSON.stringify(last)}`);
    };
    let status = await synced(0);
    const first = Number.parseInt(status.replicaTXID, 16);
    for (let i = 0; i < 3; i++) {
      await app.insert(5, 2000);
      status = await synced(Number.parseInt(status.replicaTXID, 16));
    }
    expect(status).toMatchObject({ path: db, replica: 'file', inSync: true, lagTXIDs: 0, healthy: true });
    expect(Number.parseInt(status.replicaTXID, 16)).toBeGreaterThanOrEqual(first + 3);
    const txid = status.replicaTXID;
    expect(txid).toMatch(/^[0-9a-f]{16}$/);

    const { databases } = await json<{ databases: Status[] }>('litestream_databases');
    expect(databases.map((d) => d.path)).toEqual([db, other]);
    expect(databases[0]).toMatchObject({ replica: 'file', replicaTXID: txid });

    const unknown = await call('litestream_status', { database: join(dir, 'nope.db') });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toContain(`known databases: ${db}, ${other}`);

    type Files = { levels: Array<{ level: number; truncated: boolean; files: Array<{ level: number; minTXID: string; maxTXID: string; size: number; createdAt: string }> }> };
    const listed = await json<Files>('litestream_ltx', { database: db });
    const all = listed.levels.flatMap((l) => l.files);
    expect(all.length).toBeGreaterThan(0);
    expect(all.some((f) => f.maxTXID === txid)).toBe(true);
    for (const f of all) expect(f.size).toBeGreaterThan(0);
    const levelZero = await json<Files>('litestream_ltx', { database: db, level: 0, limit: 1 });
    expect(levelZero.levels).toHaveLength(1);
    expect(levelZero.levels[0]!.files.length).toBeLessThanOrEqual(1);

    type Plan = { txid: string; size: number; files: Array<{ minTXID: string; maxTXID: string }> };
    const plan = await json<Plan>('litestream_restore_plan', { database: db });
    expect(plan.txid).toBe(txid);
    expect(plan.files[0]!.minTXID).toBe('0000000000000001');
    expect(plan.files.at(-1)!.maxTXID).toBe(txid);
    expect(plan.size).toBe(plan.files.reduce((n, f) => n + (all.find((a) => a.minTXID === f.minTXID && a.maxTXID === f.maxTXID)?.size ?? Number.NaN), 0));
    const early = await json<Plan>('litestream_restore_plan', { database: db, txid: String(first + 1) });
    expect(early.txid).toBe((first + 1).toString(16).padStart(16, '0'));
    expect(early.files.at(-1)!.maxTXID).toBe(early.txid);
    const future = await json<Plan>('litestream_restore_plan', { database: db, timestamp: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.txid).toBe(txid);
    const both = await call('litestream_restore_plan', { database: db, txid: '2', timestamp: new Date().toISOString() });
    expect([both.isError, textOf(both)]).toEqual([true, 'give txid or timestamp, not both']);

    // Restore into a new file: the database as the writer sees it.
    const output = join(dir, 'restored.db');
    const restored = await json<{ output: string; txid: string; files: number }>('litestream_restore', { database: db, output });
    expect(restored).toMatchObject({ output, txid });
    expect(await sha256(output)).toBe(await app.hash());

    // Never onto an existing file (the one just made), nor onto a replicated database, nor a relative path.
    const before = await sha256(output);
    const again = await call('litestream_restore', { database: db, output });
    expect(again.isError).toBe(true);
    expect(textOf(again)).toBe(`refusing to restore onto ${output}: it already exists (this tool only creates new files)`);
    expect(await sha256(output)).toBe(before);
    const live = await call('litestream_restore', { database: db, output: other });
    expect([live.isError, textOf(live)]).toEqual([true, `refusing to restore onto ${other}: it is a database being replicated`]);
    const relative = await call('litestream_restore', { database: db, output: 'restored-2.db' });
    expect([relative.isError, textOf(relative)]).toEqual([true, 'output must be an absolute path, got "restored-2.db"']);

    // Bound to loopback, it refuses requests addressed to another name (DNS rebinding) or from another origin.
    const rebound = await rawPost(port, { host: `attacker.example:${port}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('answers only requests addressed to localhost');
    expect((await rawPost(port, { host: `127.0.0.1:${port}`, origin: 'http://attacker.example' })).status).toBe(403);
    expect((await rawPost(port, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200);

    // replicate is still replicating after all that, and stops cleanly.
    await app.insert(1);
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  }, 90_000);
});
