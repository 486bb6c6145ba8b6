import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

/** What a `PairReader` saw. */
export interface PairReaderReport {
  readonly reads: number;
  /** States where the two tables disagreed: a half-applied transaction. */
  readonly violations: readonly unknown[];
  /** Distinct row counts seen (how many updates the reader saw arrive). */
  readonly distinct: number;
  readonly last: { a: number; b: number; sumA: number; sumB: number } | undefined;
  /** Reads that saw fewer rows than the read before. */
  readonly backwards: number;
  readonly errors: readonly string[];
}

/**
 * A reader in its own process (`pair-reader-main.ts`) holding a read-only connection to a
 * follow output open and checking, read after read, that tables `a` and `b` agree.
 */
export class PairReader {
  private readonly child: ChildProcessWithoutNullStreams;
  private output = '';

  constructor(dbPath: string, pauseMs = 2) {
    this.child = spawn(process.execPath, [join(import.meta.dirname, 'pair-reader-main.ts'), dbPath, String(pauseMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => process.stderr.write(`[reader] ${d.toString()}`));
  }

  /** Stops the reader and returns what it saw. */
  async stop(): Promise<PairReaderReport> {
    const exited = once(this.child, 'exit');
    this.child.stdin.end('stop\n');
    await exited;
    return JSON.parse(this.output) as PairReaderReport;
  }
}
