import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The built `litestream` bin of this checkout. */
export const LITESTREAM_BIN = resolve(import.meta.dirname, '../../bin/litestream.js');

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `litestream ARGS…` to completion. */
export function litestream(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; timeout?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [LITESTREAM_BIN, ...args], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, LITESTREAM_CONFIG: '', ...options.env },
    timeout: options.timeout ?? 120_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A `litestream` process left running (for `replicate`), with its output collected. */
export class RunningCli {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  /** @param options.launcher a command that runs `node litestream ARGS…` given as its last arguments (e.g. in another namespace). */
  constructor(args: readonly string[], options: { env?: Record<string, string>; cwd?: string; launcher?: readonly string[] } = {}) {
    const [command, ...before] = [...(options.launcher ?? []), process.execPath];
    this.child = spawn(command!, [...before, LITESTREAM_BIN, ...args], { cwd: options.cwd, env: { ...process.env, LITESTREAM_CONFIG: '', ...options.env } });
    this.child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits until the output contains `text` (or the process exits). */
  async waitFor(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(this.stdout + this.stderr).includes(text)) {
      if (this.child.exitCode !== null) throw new Error(`litestream exited before printing "${text}":\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export const fixturePath = (...parts: string[]) => join(import.meta.dirname, ...parts);

/**
 * Runs `litestream ARGS…` without blocking this process's event loop: needed when the
 * service under test (a recording proxy, our GCS emulator) runs inside the test process.
 */
export async function litestreamAsync(args: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const cli = new RunningCli(args, options);
  const { code } = await cli.exited;
  return { status: code, stdout: cli.stdout, stderr: cli.stderr };
}
