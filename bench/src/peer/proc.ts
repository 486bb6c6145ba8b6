/**
 * Child processes and temporary directories of the peer comparison, and what we read about a
 * running process from /proc. Every child is started in its own process group and remembered,
 * so that an exit, an exception or Ctrl-C kills all of them and removes every temporary
 * directory (`installCleanup`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, ensureDataDir } from '../common.ts';

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** Kernel clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on). */
const CLK_TCK = 100;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

function cleanup(): void {
  for (const c of live) killGroup(c, 'SIGKILL');
  live.clear();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

let installed = false;
/** Kills every child and removes every temp dir on exit, on an uncaught error, and on SIGINT/SIGTERM/SIGHUP. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\n${sig}: stopping every child process and removing temporary directories\n`);
      cleanup();
      process.exit(130);
    });
  }
}

/** A fresh directory under `.bench-data/peer-tmp/`, removed at exit (or earlier with `removeTempDir`). */
export function makeTempDir(prefix: string): string {
  ensureDataDir();
  const parent = join(dataDir, 'peer-tmp');
  mkdirSync(parent, { recursive: true });
  const d = mkdtempSync(join(parent, `${prefix}-`));
  tempDirs.add(d);
  return d;
}

export function removeTempDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  tempDirs.delete(d);
}

/** Nanoseconds on CLOCK_MONOTONIC: the same clock in every process, so children's stamps compare with ours. */
export const nowNs = (): bigint => process.hrtime.bigint();
export const msBetween = (a: bigint, b: bigint): number => Number(b - a) / 1e6;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** utime + stime of a process (all its threads, its children excluded), ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** A `/proc/<pid>/status` field in KiB (VmHWM = peak RSS so far, VmRSS = current). */
export function procStatusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for pid ${pid}`);
  return Number(m[1]);
}

export interface LogLine {
  ns: bigint;
  text: string;
}

/** Spawns a tracked child in its own process group. */
export function spawnTracked(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env, cwd: options.cwd });
  live.add(child);
  child.on('close', () => live.delete(child));
  return child;
}

/**
 * A long-running child (a replicator or a writer) whose output lines are kept with the time
 * they arrived. `problems()` lists what makes a figure invalid: an exit we did not ask for, an
 * error log line (`level=ERROR`, a Go panic, a Node stack trace).
 */
export class Service {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startNs: bigint;
  readonly lines: LogLine[] = [];
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopping = false;
  private readonly exited: Promise<void>;

  readonly name: string;

  constructor(name: string, cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.name = name;
    this.startNs = nowNs();
    this.child = spawnTracked(cmd, args, options);
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
    this.pid = this.child.pid;
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8').on('data', (d: string) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop()!;
        const ns = nowNs();
        for (const p of parts) this.lines.push({ ns, text: p });
      });
      stream.on('end', () => {
        if (rest) this.lines.push({ ns: nowNs(), text: rest });
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.lines.push({ ns: nowNs(), text: `spawn error: ${err.message}` });
        this.exit ??= { code: -1, signal: null };
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  cpuMs(): number {
    return processCpuMs(this.pid);
  }

  peakRssKiB(): number {
    return procStatusKiB(this.pid, 'VmHWM');
  }

  /** Lines that make the run invalid. */
  errorLines(): string[] {
    return this.lines.map((l) => l.text).filter((t) => /level=ERROR|"level":"(error|ERROR)"|^panic:|^fatal error:|^\w*Error( \[\w+\])?: |^\s+at \S+ \(.+:\d+:\d+\)$/.test(t));
  }

  /** Throws when the process died on its own or logged an error. */
  check(): void {
    const errors = this.errorLines();
    if (!this.stopping && this.exit) throw new Error(`${this.name} exited on its own (code ${this.exit.code}, signal ${this.exit.signal}):\n${this.tail()}`);
    if (errors.length > 0) throw new Error(`${this.name} logged ${errors.length} error line(s):\n${errors.slice(0, 5).join('\n')}`);
  }

  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => `  | ${l.text}`).join('\n');
  }

  /** Waits for the process to exit on its own (e.g. a writer with a fixed duration). */
  async wait(timeoutMs: number): Promise<void> {
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited.then(() => 'exit' as const), timer])) === 'timeout') {
      killGroup(this.child, 'SIGKILL');
      throw new Error(`${this.name} did not finish within ${timeoutMs} ms:\n${this.tail()}`);
    }
  }

  /**
   * SIGTERM, then waits for a clean exit (code 0, or death by SIGTERM for programs that do not
   * catch it). A process that needs longer than `timeoutMs` is killed and the run fails.
   */
  async stop(timeoutMs = 60_000): Promise<void> {
    if (this.exit) {
      this.check();
      return;
    }
    this.stopping = true;
    killGroup(this.child, 'SIGTERM');
    const timer = sleep(timeoutMs).then(() => 'timeout' as const);
    if ((await Promise.race([this.exited.then(() => 'exit' as const), timer])) === 'timeout') {
      killGroup(this.child, 'SIGKILL');
      throw new Error(`${this.name} did not stop within ${timeoutMs} ms of SIGTERM:\n${this.tail()}`);
    }
    const { code, signal } = this.exit!;
    if (!(code === 0 || signal === 'SIGTERM')) throw new Error(`${this.name} exited with code ${code} signal ${signal} after SIGTERM:\n${this.tail()}`);
    this.check();
  }

  /** Kills without checking (used on failure paths). */
  kill(): void {
    if (this.exit) return;
    this.stopping = true;
    killGroup(this.child, 'SIGKILL');
  }
}

export interface MeasuredRun {
  wallMs: number;
  maxRssKiB: number;
  cpuMs: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion under `/usr/bin/time` (peak RSS = getrusage's ru_maxrss of the
 * command, CPU = user + sys); wall time is ours, spawn to exit. A non-zero exit throws.
 */
export function runMeasured(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const start = nowNs();
    const child = spawnTracked('/usr/bin/time', ['-f', '@@peer-time %M %U %S', cmd, ...args], options);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = msBetween(start, nowNs());
      const m = /@@peer-time (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      if (code !== 0 || !m) {
        reject(new Error(`${cmd} ${args.join(' ')} exited with code ${code} signal ${signal}:\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`));
        return;
      }
      resolve({ wallMs, maxRssKiB: Number(m[1]), cpuMs: (Number(m[2]) + Number(m[3])) * 1000, stdout, stderr: stderr.slice(0, m.index) });
    });
  });
}
