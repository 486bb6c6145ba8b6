import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { LitestreamError, type Logger } from '@litestream-ts/core';
import { z } from 'zod';
import { parseListenAddress } from '../metrics/listen-address.ts';
import { version } from '../commands/version.ts';
import type { McpSource } from './mcp-source.ts';
import { databaseStatus, listDatabases, replicaLtxFiles, restorePlan, restoreToNewPath } from './mcp-tools.ts';

/** A running MCP server. */
export interface RunningMcpServer {
  /** `http://host:port/`: where MCP clients connect (Streamable HTTP). */
  readonly url: string;
  close(): Promise<void>;
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false } as const;
const txidArg = z.string().optional().describe('restore up to this TXID: 16 hex digits, or a positive decimal number');
const timestampArg = z.string().optional().describe('restore the last state replicated at or before this RFC 3339 time, e.g. 2026-01-02T03:04:05Z');
const databaseArg = z.string().describe('path of a replicated database, as litestream_databases lists it');

/** An MCP server with the tools over one running `replicate`. One is made per HTTP request (stateless). */
export function buildMcpServer(source: McpSource, logger: Logger): McpServer {
  const server = new McpServer({ name: 'litestream', version });
  server.registerTool(
    'litestream_databases',
    { description: 'List the databases this litestream replicate process replicates, with their replica type, local and replica TXIDs, lag and last error.', annotations: READ_ONLY },
    () => answer(() => listDatabases(source)),
  );
  server.registerTool(
    'litestream_status',
    {
      description: 'Replication status of one database: local TXID, replica position (TXID), lag in transactions, whether it is in sync and healthy, and the last sync error.',
      inputSchema: { database: databaseArg },
      annotations: READ_ONLY,
    },
    ({ database }) => answer(() => databaseStatus(source, database)),
  );
  server.registerTool(
    'litestream_ltx',
    {
      description: 'List the LTX files the replica of a database holds, per compaction level (0 = L0 files, 9 = snapshots): TXID range, size and creation time.',
      inputSchema: {
        database: databaseArg,
        level: z.number().int().min(0).max(9).optional().describe('only this level (default: every level that holds files)'),
        limit: z.number().int().min(1).optional().describe('at most this many files per level (default 1000)'),
      },
      annotations: READ_ONLY,
    },
    ({ database, level, limit }, extra) => answer(() => replicaLtxFiles(source, database, { level, limit, signal: extra.signal })),
  );
  server.registerTool(
    'litestream_restore_plan',
    {
      description: 'Dry run of a restore: which LTX files a restore of a database to its latest state, a TXID or a time would download and apply, the resulting TXID and the bytes to download. Nothing is written.',
      inputSchema: { database: databaseArg, txid: txidArg, timestamp: timestampArg },
      annotations: READ_ONLY,
    },
    ({ database, txid, timestamp }, extra) => answer(() => restorePlan(source, database, { txid, timestamp }, extra.signal)),
  );
  server.registerTool(
    'litestream_restore',
    {
      description:
        'Restore a database from its replica into a NEW file (latest state, a TXID or a time). The output must be an absolute path where no file exists yet; ' +
        'this tool never overwrites anything, and the replicated database itself is left alone.',
      inputSchema: {
        database: databaseArg,
        output: z.string().describe('absolute path of the new database file to create'),
        txid: txidArg,
        timestamp: timestampArg,
        integrity_check: z.enum(['none', 'quick', 'full']).optional().describe('SQLite check of the result before it takes its name (default quick)'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    async ({ database, output, txid, timestamp, integrity_check }, extra) => {
      const result = await answer(() => restoreToNewPath(source, database, { output, txid, timestamp, integrityCheck: integrity_check }, extra.signal));
      if (!result.isError) logger.info('mcp: restored database to a new file', { db: database, output });
      return result;
    },
  );
  return server;
}

/**
 * Serves the MCP tools over Streamable HTTP on `addr` (Litestream's `mcp-addr`: `:3001`,
 * `127.0.0.1:3001`), at every path, as Litestream does. Stateless: each POST gets its own server
 * and transport, answered with JSON.
 */
export async function startMcpServer(addr: string, source: McpSource, logger: Logger): Promise<RunningMcpServer> {
  const { host, port } = parseListenAddress(addr);
  const loopbackOnly = host !== undefined && isLoopbackName(host);
  const http = createServer((request, response) => {
    // Bound to loopback, the server answers only requests addressed to loopback: a web page whose
    // name an attacker re-points at 127.0.0.1 (DNS rebinding) sends its own Host and Origin.
    if (loopbackOnly && !(isLoopbackHost(request.headers.host) && (request.headers.origin === undefined || isLoopbackOrigin(request.headers.origin)))) {
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'forbidden: this MCP server answers only requests addressed to localhost' }, id: null }));
      return;
    }
    handle(request, response, source, logger).catch((error: unknown) => {
      logger.warn('mcp: request failed', { error: (error as Error).message });
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => reject(listenError(addr, error));
    http.once('error', onError);
    http.listen({ host, port }, () => {
      http.off('error', onError);
      resolve();
    });
  });
  const bound = http.address() as AddressInfo;
  const shown = host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shown}:${bound.port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.close((error) => (error ? reject(error) : resolve()));
        http.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, source: McpSource, logger: Logger): Promise<void> {
  if (request.method !== 'POST') {
    // Stateless: no server-sent event stream to resume and no session to end.
    response.writeHead(405, { allow: 'POST', 'content-type': 'application/json' });
    response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'method not allowed' }, id: null }));
    return;
  }
  const server = buildMcpServer(source, logger);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response);
}

type ToolAnswer = { content: Array<{ type: 'text'; text: string }>; isError?: boolean };

/** Runs a tool: its result as JSON text, or its error's message as an error result. */
async function answer(run: () => unknown): Promise<ToolAnswer> {
  try {
    const result = await run();
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
  } catch (error) {
    return { isError: true, content: [{ type: 'text', text: error instanceof Error ? error.message : String(error) }] };
  }
}

/** `localhost`, `127.x.x.x`, `::1` (brackets allowed). */
function isLoopbackName(name: string): boolean {
  const bare = name.toLowerCase().replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** A Host header (`name[:port]`) that names a loopback address. */
function isLoopbackHost(header: string | undefined): boolean {
  if (header === undefined) return false;
  try {
    return isLoopbackName(new URL(`http://${header}`).hostname);
  } catch {
    return false;
  }
}

/** An Origin header of a page served from loopback. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    return isLoopbackName(new URL(origin).hostname);
  } catch {
    return false;
  }
}

function listenError(addr: string, error: NodeJS.ErrnoException): LitestreamError {
  const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)' : error.message;
  return new LitestreamError(`cannot start MCP server on ${addr} (mcp-addr): ${reason}`, { cause: error });
}
