import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

export interface BinResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built bin of this repo (e.g. `packages/core/bin/ltx.js`) with the current Node. */
export function runBin(bin: string, args: readonly string[], options: { cwd?: string } = {}): BinResult {
  const r = spawnSync(process.execPath, [join(repoRoot, bin), ...args], { encoding: 'utf8', cwd: options.cwd, timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
