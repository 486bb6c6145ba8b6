import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** One commit the writer reported: rows 1..maxId exist once COMMIT returned at `at`. */
export interface Commit {
  readonly maxId: number;
  readonly at: number;
}

/** What `PRAGMA wal_checkpoint(MODE)` answered in the writer. */
export interface CheckpointResult {
  readonly mode: string;
  readonly busy: string;
  readonly log: number;
  readonly checkpointed: number;
  readonly ms: number;
}

/** Drives writer.ts in its own process and keeps its commit log. */
export class WriterClient {
  private readonly child: ChildProcessWithoutNullStreams;
  readonly commits: Commit[] = [];
  /** maxId of every commit, for "is this a transaction boundary". */
  private readonly boundaries = new Set<number>([0]);
  private readonly waiting: Array<{ prefix: string; resolve: (line: string) => void }> = [];
  stderr = '';

  constructor(db: string, txnPerSecond: number) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'writer.ts'), db, String(txnPerSecond)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      if (line.startsWith('C ')) {
        const [, id, at] = line.split(' ');
        this.commits.push({ maxId: Number(id), at: Number(at) });
        this.boundaries.add(Number(id));
        return;
      }
      const i = this.waiting.findIndex((w) => line.startsWith(w.prefix));
      if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(line);
    });
  }

  /** The highest row id committed so far. */
  lastCommitted(): number {
    return this.commits.at(-1)?.maxId ?? 0;
  }

  /** True when some commit ended exactly at row `maxId` (a restore must land on one). */
  isBoundary(maxId: number): boolean {
    return this.boundaries.has(maxId);
  }

  /** When row `id` was committed (the commit that first reached it), if it was. */
  committedAt(id: number): number | undefined {
    let lo = 0;
    let hi = this.commits.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.commits[mid]!.maxId >= id) hi = mid;
      else lo = mid + 1;
    }
    const c = this.commits[lo];
    return c && c.maxId >= id ? c.at : undefined;
  }

  async checkpoint(mode: 'PASSIVE' | 'FULL' | 'RESTART' | 'TRUNCATE'): Promise<CheckpointResult> {
    const [, m, busy, log, checkpointed, ms] = (await this.ask(`checkpoint ${mode}`, 'K ')).split(' ');
    return { mode: m!, busy: busy!, log: Number(log), checkpointed: Number(checkpointed), ms: Number(ms) };
  }

  async stop(): Promise<number> {
    return Number((await this.ask('stop', 'S ')).split(' ')[1]);
  }

  async hash(): Promise<string> {
    return (await this.ask('hash', 'H ')).split(' ')[1]!;
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    if (this.child.exitCode === null) await new Promise((resolve) => this.child.once('exit', resolve));
  }

  private ask(command: string, prefix: string): Promise<string> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null) return reject(new Error(`the writer exited: ${this.stderr.slice(-2000)}`));
      this.waiting.push({ prefix, resolve });
      this.child.stdin.write(`${command}\n`);
    });
  }
}
