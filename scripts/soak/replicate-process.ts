import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';

/** The built `litestream` bin of this checkout. */
export const LITESTREAM_BIN = join(import.meta.dirname, '../../packages/cli/bin/litestream.js');

/** What `replicate` logged that the soak counts (msg="…"). */
export const WATCHED_MESSAGES = ['sync error', 'sync resumed', 'maintenance error', 'maintenance resumed', 'writing a full database image', 'damaged staged file removed', 'final sync failed', 'checkpoint failed'];

/**
 * The real `litestream replicate -config CONFIG`, (re)started as the soak needs; everything it
 * prints goes to one log file, with a marker line at each start.
 */
export class ReplicateProcess {
  private child: ChildProcess | undefined;
  private readonly log: WriteStream;
  readonly counts = new Map<string, number>();
  starts = 0;
  /** The last 200 lines it printed, for a failure report. */
  private tail: string[] = [];

  private readonly config: string;
  private readonly env: Record<string, string>;

  constructor(config: string, logPath: string, env: Record<string, string>) {
    this.config = config;
    this.env = env;
    this.log = createWriteStream(logPath, { flags: 'a' });
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    this.starts += 1;
    this.log.write(`----- soak: replicate start #${this.starts} at ${new Date().toISOString()}\n`);
    const child = spawn(process.execPath, [LITESTREAM_BIN, 'replicate', '-config', this.config], {
      env: { ...process.env, LITESTREAM_CONFIG: '', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    const onData = (d: Buffer) => {
      this.log.write(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        this.tail.push(line);
        for (const msg of WATCHED_MESSAGES) if (line.includes(`msg="${msg}"`)) this.counts.set(msg, (this.counts.get(msg) ?? 0) + 1);
      }
      if (this.tail.length > 400) this.tail = this.tail.slice(-200);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.child = child;
  }

  /** SIGKILL, as a crash or the OOM killer would; resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGTERM (final sync within shutdown-sync-timeout); resolves with how it exited, or undefined if it outlived `timeoutMs`. */
  async terminate(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    const child = this.child;
    if (!child || !this.running) return undefined;
    const gone = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.kill('SIGTERM');
    const outcome = await Promise.race([gone, new Promise<undefined>((resolve) => setTimeout(resolve, timeoutMs))]);
    if (!outcome) await this.kill();
    return outcome;
  }

  recentOutput(lines = 40): string {
    return this.tail.slice(-lines).join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.log.end(resolve));
  }
}
