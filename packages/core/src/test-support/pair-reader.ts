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

  /**
   * Keeps one read transaction open for `ms`: resolves `holding` once it began, and `released`
   * with the states read at its start and end once it ended.
   */
  hold(ms: number): { holding: Promise<void>; released: Promise<{ before: unknown; after: unknown }> } {
    const seen = this.lines().length;
    this.child.stdin.write(`hold ${ms}\n`);
    const line = async (prefix: string) => {
      for (;;) {
        const found = this.lines().slice(seen).find((l) => l.startsWith(prefix));
        if (found) return found.slice(prefix.length);
        if (this.child.exitCode !== null) throw new Error('the reader exited');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    return { holding: line('holding ').then(() => {}), released: line('released ').then((json) => JSON.parse(json) as { before: unknown; after: unknown }) };
  }

  /** Stops the reader and returns what it saw. */
  async stop(): Promise<PairReaderReport> {
    const exited = once(this.child, 'exit');
    this.child.stdin.end('stop\n');
    await exited;
    return JSON.parse(this.lines().at(-1)!) as PairReaderReport;
  }

  private lines(): string[] {
    return this.output.split('\n').filter((l) => l !== '');
  }
}

/** The pair tables' counts and sums in a follow output, read once (null before it exists). */
export async function readPairState(dbPath: string): Promise<{ a: number; b: number; sumA: number; sumB: number } | null> {
  const { default: Database } = await import('better-sqlite3');
  let db;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
  } catch {
    return null;
  }
  try {
    return db.transaction(() => {
      const a = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM a').get() as { n: number; s: number };
      const b = db.prepare('SELECT count(*) AS n, coalesce(sum(v), 0) AS s FROM b').get() as { n: number; s: number };
      return { a: a.n, b: b.n, sumA: a.s, sumB: b.s };
    })();
  } finally {
    db.close();
  }
}

/** `PRAGMA integrity_check` of a database, read-only. */
export async function integrityOf(dbPath: string): Promise<string> {
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return String(db.pragma('integrity_check', { simple: true }));
  } finally {
    db.close();
  }
}
