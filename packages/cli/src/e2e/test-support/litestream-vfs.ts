import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Litestream v0.5.17's own code as a SQLite loadable extension (npm
 * `litestream-vfs-linux-amd64`, a devDependency), or why it cannot load here: it is built for
 * linux-x64 with glibc only.
 */
export function litestreamVfs(): { path: string } | { skip: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `the Litestream v0.5.17 VFS extension is built for linux-x64, this is ${process.platform}-${process.arch}` };
  let path: string;
  try {
    path = join(dirname(createRequire(import.meta.url).resolve('litestream-vfs-linux-amd64/package.json')), 'litestream-vfs.so');
  } catch (err) {
    return { skip: `npm package litestream-vfs-linux-amd64 is not installed: ${(err as Error).message}` };
  }
  return existsSync(path) ? { path } : { skip: `the Litestream v0.5.17 VFS extension is missing at ${path}` };
}

/** How the extension reaches one replica: its URL and the environment its backend reads. */
export interface VfsReplica {
  readonly url: string;
  readonly env: Record<string, string>;
}

/** What one connection through the extension asks for. */
export interface VfsConnection {
  /** Statements in order; one starting with SELECT or PRAGMA is queried, any other executed. */
  readonly sql: readonly string[];
  /** Opens with LITESTREAM_WRITE_ENABLED=true and this buffer file (it writes LTX files to the replica). */
  readonly writeBuffer?: string;
  /** The extension's log file (it logs to stdout otherwise). */
  readonly logFile: string;
}

/**
 * Opens one connection through the extension in a child process (`vfs-child.ts`) and resolves
 * with each statement's rows (arrays of column values) or change count. The child's
 * environment is the extension's whole configuration: AWS_CA_BUNDLE is removed (the Go AWS
 * client refuses to start with it set).
 */
export async function throughVfs(extension: string, replica: VfsReplica, connection: VfsConnection): Promise<unknown[]> {
  const env: Record<string, string | undefined> = { ...process.env, ...replica.env, LITESTREAM_REPLICA_URL: replica.url, LITESTREAM_LOG_FILE: connection.logFile };
  delete env.AWS_CA_BUNDLE;
  if (connection.writeBuffer) Object.assign(env, { LITESTREAM_WRITE_ENABLED: 'true', LITESTREAM_BUFFER_PATH: connection.writeBuffer, LITESTREAM_SYNC_INTERVAL: '100ms' });
  const child = spawn(process.execPath, ['--no-warnings', join(import.meta.dirname, 'vfs-child.ts'), extension, JSON.stringify(connection.sql)], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  if (code !== 0) {
    const log = existsSync(connection.logFile) ? readFileSync(connection.logFile, 'utf8').slice(-3000) : '(no log)';
    throw new Error(`the Litestream VFS child exited with ${code ?? signal} on ${replica.url}:\n${stderr}\nits log:\n${log}`);
  }
  return JSON.parse(stdout.trim().split('\n').pop()!) as unknown[];
}
