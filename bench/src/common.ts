/**
 * Shared helpers of the benchmark scripts: where things live, how child processes are
 * started (pinned to one CPU) and timed, and small statistics/formatting helpers.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(benchDir, '..');
/** Cached databases, LTX outputs, results and profiles (git-ignored). */
export const dataDir = process.env.BENCH_DATA_DIR ?? join(repoRoot, '.bench-data');
export const srcDir = join(benchDir, 'src');

export function ensureDataDir(): string {
  mkdirSync(dataDir, { recursive: true });
  return dataDir;
}

/** 1 MB = 10^6 bytes, as `lz4`, `dd` and most throughput figures use. */
export const MB = 1_000_000;
export const MiB = 1 << 20;

/**
 * The CPU every measured process is pinned to (`taskset -c`), so "one core" is literal:
 * our encoder's libuv read-ahead thread and V8's GC helpers share that core with the main
 * thread, exactly like `cat` and `lz4` do. `BENCH_CPU=none` disables pinning.
 */
export function pinnedCpu(): number | null {
  const env = process.env.BENCH_CPU;
  if (env === 'none') return null;
  if (env !== undefined && env !== '') return Number(env);
  return availableParallelism() > 1 ? availableParallelism() - 1 : 0;
}

export function pinArgs(cmd: string, args: readonly string[]): [string, string[]] {
  const cpu = pinnedCpu();
  return cpu === null ? [cmd, [...args]] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

export interface ProcResult {
  /** Wall time from spawn to exit, ms. */
  wallMs: number;
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Runs a command to completion and times it (wall clock, spawn to exit).
 * `stdoutTo` sends stdout to a file (e.g. /dev/null) instead of capturing it.
 */
export function runTimed(cmd: string, args: readonly string[], options: { stdoutTo?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const outFd = options.stdoutTo !== undefined ? openSync(options.stdoutTo, 'w') : undefined;
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', outFd ?? 'pipe', 'pipe'], env: options.env ?? process.env, ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      if (outFd !== undefined) closeSync(outFd);
      reject(err);
    });
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      if (outFd !== undefined) closeSync(outFd);
      resolve({ wallMs, stdout, stderr, code });
    });
  });
}

/** Runs a command that must succeed; throws with its stderr otherwise. */
export async function runOk(cmd: string, args: readonly string[], options: { stdoutTo?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcResult> {
  const r = await runTimed(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}:\n${r.stderr}`);
  return r;
}

/** The last line of a child's stdout, parsed as JSON (children print one JSON line at the end). */
export function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${fmt(n / (1 << 30), 2)} GiB`;
  if (n >= 1 << 20) return `${fmt(n / (1 << 20), 1)} MiB`;
  return `${fmt(n / 1024, 1)} KiB`;
}

/** Renders rows as a plain-text table with a header rule. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAlign: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return m?.[1]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
