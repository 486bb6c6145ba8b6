import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { WorkloadRecord } from './workload.ts';

/**
 * Drives an application process (`app-process-main.ts`) that writes to a database through
 * its own better-sqlite3 connection, so tests exercise two processes as in production.
 */
export class AppProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: AsyncIterator<string>;

  constructor(dbPath: string) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'app-process-main.ts'), dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`[app] ${d.toString()}`));
    this.replies = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async request<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
    const next = await this.replies.next();
    if (next.done) throw new Error('application process exited');
    const reply = JSON.parse(next.value) as { ok: boolean; error?: string };
    if (!reply.ok) throw new Error(`application process: ${reply.error}`);
    return reply as T;
  }

  insert(rows: number, size = 100): Promise<unknown> {
    return this.request({ op: 'insert', rows, size });
  }

  /** Runs the mixed workload inside the application process; resolves with its records. */
  async workload(txns: number, options: { bigTxnAt?: number; pauseEvery?: number; pauseMs?: number } = {}): Promise<WorkloadRecord[]> {
    return (await this.request<{ records: WorkloadRecord[] }>({ op: 'workload', txns, ...options })).records;
  }

  /** Small transactions at `txnPerSecond` for `durationMs` (see `steady` in app-process-main.ts); resolves with the count. */
  async steady(txnPerSecond: number, durationMs: number): Promise<number> {
    return (await this.request<{ txns: number }>({ op: 'steady', txnPerSecond, durationMs })).txns;
  }

  async hash(): Promise<string> {
    return (await this.request<{ sha256: string }>({ op: 'hash' })).sha256;
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await new Promise((resolve) => this.child.once('exit', resolve));
  }
}
