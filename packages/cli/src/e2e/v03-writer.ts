import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The real Litestream v0.3.13 (the Go binary of npm `@flydotio/litestream-linux-x64`, a
 * devDependency), or why it cannot run here: it is built for linux-x64 only.
 */
export function litestreamV03(): { path: string } | { skip: string } {
  if (process.platform !== 'linux' || process.arch !== 'x64') return { skip: `Litestream v0.3.13's npm binary is for linux-x64, this is ${process.platform}-${process.arch}` };
  const path = join(dirname(createRequire(import.meta.url).resolve('@flydotio/litestream-linux-x64/package.json')), 'litestream');
  return existsSync(path) ? { path } : { skip: `Litestream v0.3.13 binary not found at ${path}` };
}

/** One replica entry of a v0.3 config (`type`, `path`, and the store's keys). */
export type V03ReplicaConfig = Record<string, string | boolean>;

/**
 * Runs `litestream replicate` (v0.3.13) on one database with the given replicas, short
 * intervals and no retention, and follows its log: `quiet` waits until no replica has
 * written anything for a while, `snapshotAfter` until a snapshot is written after a time.
 */
export class V03Replicator {
  private child: ChildProcess | undefined;
  private log = '';
  /** When the last "… written" line (a snapshot or WAL segment upload) appeared. */
  private lastWrite = 0;
  private readonly snapshots: number[] = [];

  private readonly binary: string;
  private readonly db: string;
  private readonly replicas: readonly V03ReplicaConfig[];
  private readonly env: Record<string, string>;

  constructor(binary: string, db: string, replicas: readonly V03ReplicaConfig[], env: Record<string, string> = {}) {
    this.binary = binary;
    this.db = db;
    this.replicas = replicas;
    this.env = env;
  }

  /** The v0.3 config: 100 ms sync and monitor intervals, small checkpoints, a snapshot every 2 s. */
  configText(): string {
    const lines = ['dbs:', `  - path: ${this.db}`, '    monitor-interval: 100ms', '    checkpoint-interval: 1s', '    min-checkpoint-page-count: 16', '    replicas:'];
    for (const replica of this.replicas) {
      const entries = Object.entries({ 'sync-interval': '100ms', 'snapshot-interval': '2s', retention: '24h', ...replica });
      entries.forEach(([key, value], i) => lines.push(`${i === 0 ? '      - ' : '        '}${key}: ${JSON.stringify(value)}`));
    }
    return `${lines.join('\n')}\n`;
  }

  async start(): Promise<void> {
    const config = `${this.db}.v03.yml`;
    await writeFile(config, this.configText());
    const child = spawn(this.binary, ['replicate', '-config', config], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.child = child;
    const onData = (data: Buffer): void => {
      const text = data.toString();
      this.log += text;
      for (const line of text.split('\n')) {
        if (/msg="(wal segment|snapshot) written"/.test(line)) this.lastWrite = Date.now();
        if (/msg="snapshot written"/.test(line)) this.snapshots.push(Date.now());
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    await this.until(() => this.snapshots.length > 0 || this.lastWrite > 0, 30_000, 'the first upload');
  }

  /** Waits until nothing has been written for `ms` (every replica caught up with the database). */
  async quiet(ms = 1500): Promise<void> {
    await this.until(() => this.lastWrite > 0 && Date.now() - this.lastWrite >= ms, 60_000, `${ms} ms without uploads`);
  }

  /** Waits until a snapshot is written after `time`, then until the uploads are quiet again. */
  async snapshotAfter(time: Date): Promise<void> {
    await this.until(() => this.snapshots.some((t) => t > time.getTime()), 30_000, `a snapshot after ${time.toISOString()}`);
    await this.quiet();
  }

  /** Stops the process (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  /**
   * Stops, forgets the local state (v0.3's `.<db>-litestream` directory) and starts again, so
   * v0.3 begins a new generation with a new snapshot.
   */
  async restartWithNewGeneration(): Promise<void> {
    await this.stop();
    await rm(join(dirname(this.db), `.${basename(this.db)}-litestream`), { recursive: true, force: true });
    this.snapshots.length = 0;
    this.lastWrite = 0;
    await this.start();
  }

  output(): string {
    return this.log;
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (this.child && this.child.exitCode !== null) throw new Error(`litestream v0.3 exited (${this.child.exitCode}) while waiting for ${what}:\n${this.log.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; litestream v0.3 log:\n${this.log.slice(-4000)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The rows of table `t` in id order, as the sqlite3 CLI prints them: a digest and a count. */
export async function tableContent(path: string): Promise<{ sha256: string; rows: number }> {
  const { stdout } = await run('sqlite3', [path, 'SELECT id, body FROM t ORDER BY id;'], { maxBuffer: 256 * 1024 * 1024 });
  return { sha256: createHash('sha256').update(stdout).digest('hex'), rows: stdout === '' ? 0 : stdout.trimEnd().split('\n').length };
}

/** `PRAGMA integrity_check` of a database through the sqlite3 CLI. */
export async function integrityCheck(path: string): Promise<string> {
  const { stdout } = await run('sqlite3', [path, 'PRAGMA integrity_check;']);
  return stdout.trim();
}

/** Waits until the wall clock is past the whole second after `time`, so stores that keep whole-second modification times put later objects after `time`. */
export async function pastNextSecond(time: Date): Promise<void> {
  const wait = Math.floor(time.getTime() / 1000) * 1000 + 1050 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
