import { access } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { MAX_LEVEL, UsageError, formatTXID, planRestore, restore, type LtxFileInfo, type RestoreTarget, type SyncStatus } from '@litestream-ts/core';
import type { McpDatabase, McpSource } from './mcp-source.ts';

// The tools' logic, apart from the MCP SDK: each takes the running `replicate`'s view and the
// tool's arguments, and returns a JSON-ready answer or throws an error whose message is the answer.

/** Most files one level lists unless the caller asks for fewer (a replica may hold thousands). */
export const DEFAULT_FILE_LIMIT = 1000;

/** A database's replication state, as `litestream_databases` and `litestream_status` report it. */
export interface DatabaseState {
  readonly path: string;
  readonly replica: string;
  /** Local TXID: the last transaction staged for the replica (16 hex digits). */
  readonly localTXID: string;
  /** Replica position: the last transaction the replica holds. */
  readonly replicaTXID: string;
  /** Transactions the replica is behind (0 when in sync). */
  readonly lagTXIDs: number;
  readonly inSync: boolean;
  readonly healthy: boolean;
  readonly lastError?: string;
  readonly corruptFiles?: readonly string[];
}

/** `litestream_databases`: every database with its replica and position. */
export function listDatabases(source: McpSource): { databases: DatabaseState[] } {
  const status = statusByPath(source);
  return { databases: source.databases().map((db) => stateOf(db, status.get(db.path))) };
}

/** `litestream_status`: one database's state. */
export function databaseStatus(source: McpSource, database: string): DatabaseState {
  const db = findDatabase(source, database);
  return stateOf(db, statusByPath(source).get(db.path));
}

/** One listed LTX file. */
export interface LtxFileEntry {
  readonly level: number;
  readonly minTXID: string;
  readonly maxTXID: string;
  readonly size: number;
  readonly createdAt: string;
}

/** `litestream_ltx`: the replica's LTX files of one level, or of every level (0–9). */
export async function replicaLtxFiles(source: McpSource, database: string, options: { level?: number | undefined; limit?: number | undefined; signal?: AbortSignal }): Promise<{ database: string; levels: Array<{ level: number; files: LtxFileEntry[]; truncated: boolean }> }> {
  const db = findDatabase(source, database);
  const limit = options.limit ?? DEFAULT_FILE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new UsageError(`limit must be a positive integer, got ${limit}`);
  if (options.level !== undefined && !(Number.isInteger(options.level) && options.level >= 0 && options.level <= MAX_LEVEL)) {
    throw new UsageError(`level must be 0 to ${MAX_LEVEL}, got ${options.level}`);
  }
  const levels = options.level === undefined ? Array.from({ length: MAX_LEVEL + 1 }, (_, i) => i) : [options.level];
  const out: Array<{ level: number; files: LtxFileEntry[]; truncated: boolean }> = [];
  for (const level of levels) {
    const files: LtxFileEntry[] = [];
    let truncated = false;
    for await (const file of db.client.listLtxFiles(level, options.signal ? { signal: options.signal } : {})) {
      if (files.length === limit) {
        truncated = true;
        break;
      }
      files.push(entryOf(file));
    }
    if (files.length > 0 || options.level !== undefined) out.push({ level, files, truncated });
  }
  return { database: db.path, levels: out };
}

/** What `litestream_restore_plan` and `litestream_restore` accept as the state to restore. */
export interface TargetArgs {
  /** A TXID: 16 hex digits, or a positive decimal number. */
  readonly txid?: string | undefined;
  /** An RFC 3339 time: the last state replicated at or before it. */
  readonly timestamp?: string | undefined;
}

/** `litestream_restore_plan`: which files a restore to the target would apply (nothing is downloaded). */
export async function restorePlan(source: McpSource, database: string, target: TargetArgs, signal?: AbortSignal): Promise<{ database: string; txid: string; size: number; timestamp?: string; files: LtxFileEntry[] }> {
  const db = findDatabase(source, database);
  const plan = await planRestore(db.client, parseTarget(target), signal ? { signal } : {});
  return {
    database: db.path,
    txid: formatTXID(plan.txid),
    size: plan.size,
    ...(plan.timestamp ? { timestamp: plan.timestamp.toISOString() } : {}),
    files: plan.files.map(entryOf),
  };
}

/**
 * `litestream_restore`: rebuilds the database at the target into a NEW file. The output must be
 * an absolute path where nothing exists yet (nor its `-wal`/`-shm`/`-journal`), and never a
 * replicated database: this tool cannot overwrite anything.
 */
export async function restoreToNewPath(
  source: McpSource,
  database: string,
  args: TargetArgs & { output: string; integrityCheck?: 'none' | 'quick' | 'full' | undefined },
  signal?: AbortSignal,
): Promise<{ database: string; output: string; txid: string; files: number; bytes: number; timestamp?: string; durationMs: number }> {
  const db = findDatabase(source, database);
  if (!isAbsolute(args.output)) throw new UsageError(`output must be an absolute path, got ${JSON.stringify(args.output)}`);
  const output = resolve(args.output);
  if (source.databases().some((d) => d.path === output)) throw new UsageError(`refusing to restore onto ${output}: it is a database being replicated`);
  for (const path of [output, `${output}-wal`, `${output}-shm`, `${output}-journal`]) {
    if (await exists(path)) throw new UsageError(`refusing to restore onto ${path}: it already exists (this tool only creates new files)`);
  }
  const result = await restore({
    client: db.client,
    outputPath: output,
    overwrite: false,
    integrityCheck: args.integrityCheck ?? 'quick',
    ...parseTarget(args),
    ...(signal ? { signal } : {}),
  });
  return {
    database: db.path,
    output: result.outputPath,
    txid: formatTXID(result.txid),
    files: result.files,
    bytes: result.bytes,
    ...(result.timestamp ? { timestamp: result.timestamp.toISOString() } : {}),
    durationMs: Math.round(result.durationMs),
  };
}

/** The database named by its path (absolute, or relative to the working directory); an unknown one lists the known. */
export function findDatabase(source: McpSource, database: string): McpDatabase {
  const databases = source.databases();
  const wanted = resolve(database);
  const found = databases.find((d) => d.path === wanted);
  if (found) return found;
  const known = databases.map((d) => d.path);
  throw new UsageError(`unknown database ${JSON.stringify(database)}; known databases: ${known.length === 0 ? '(none)' : known.join(', ')}`);
}

/** Parses a tool's txid/timestamp arguments (one at most). */
export function parseTarget(args: TargetArgs): RestoreTarget {
  const txid = blank(args.txid) ? undefined : args.txid!.trim();
  const timestamp = blank(args.timestamp) ? undefined : args.timestamp!.trim();
  if (txid !== undefined && timestamp !== undefined) throw new UsageError('give txid or timestamp, not both');
  if (txid !== undefined) {
    if (/^[0-9a-f]{16}$/i.test(txid)) return { txid: Number.parseInt(txid, 16) };
    if (/^[0-9]+$/.test(txid) && Number(txid) >= 1 && Number.isSafeInteger(Number(txid))) return { txid: Number(txid) };
    throw new UsageError(`invalid txid ${JSON.stringify(txid)}: expected 16 hex digits or a positive decimal number`);
  }
  if (timestamp !== undefined) {
    const date = new Date(timestamp);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(timestamp) || Number.isNaN(date.getTime())) throw new UsageError(`invalid timestamp ${JSON.stringify(timestamp)}: expected RFC 3339 such as 2026-01-02T03:04:05Z`);
    return { timestamp: date };
  }
  return {};
}

function stateOf(db: McpDatabase, status: SyncStatus | undefined): DatabaseState {
  const local = status?.localTXID ?? 0;
  const remote = status?.remoteTXID ?? 0;
  // Whatever else core reports per database (such as the time of the last sync) is passed on, times as ISO text.
  const { path: _path, localTXID: _local, remoteTXID: _remote, inSync: _inSync, healthy: _healthy, lastError: _error, corruptFiles: _corrupt, ...more } = status ?? ({} as Partial<SyncStatus>);
  const extra = Object.fromEntries(Object.entries(more).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));
  return {
    ...extra,
    path: db.path,
    replica: db.replicaType,
    localTXID: formatTXID(local),
    replicaTXID: formatTXID(remote),
    lagTXIDs: Math.max(0, local - remote),
    inSync: status?.inSync ?? false,
    healthy: status?.healthy ?? true,
    ...(status?.lastError ? { lastError: status.lastError } : {}),
    ...(status?.corruptFiles && status.corruptFiles.length > 0 ? { corruptFiles: status.corruptFiles } : {}),
  };
}

function statusByPath(source: McpSource): Map<string, SyncStatus> {
  return new Map(source.syncStatus().map((s) => [s.path, s]));
}

function entryOf(file: LtxFileInfo): LtxFileEntry {
  return { level: file.level, minTXID: formatTXID(file.minTXID), maxTXID: formatTXID(file.maxTXID), size: file.size, createdAt: file.createdAt.toISOString() };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function blank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}
