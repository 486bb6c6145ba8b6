import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningCli, type CliResult } from './cli-process.ts';

/**
 * Full disks for end-to-end tests: the command under test runs in a private mount namespace
 * (`unshare -rm`: a user namespace, so no root is needed where unprivileged user namespaces
 * are allowed) in which a tmpfs of a few KiB is mounted on a directory. The disk is really
 * full (the kernel answers ENOSPC), nothing else on the machine sees the mount, and it
 * disappears with the process, even if the test dies.
 *
 * Returns why that is impossible here, or undefined when it works.
 */
export function tinyFsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux mount namespaces (this is ${process.platform})`;
  const probe = mkdtempSync(join(tmpdir(), 'lts-tinyfs-probe-'));
  try {
    const r = spawnSync('unshare', ['-rm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1"', 'sh', probe], { encoding: 'utf8' });
    if (r.error) return `unshare cannot run: ${r.error.message}`;
    if (r.status !== 0) return `unshare -rm + mount tmpfs failed (user or mount namespaces not allowed?): ${r.stderr.trim()}`;
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

// $1 size, $2 mount point, then the command; what is left in the mount point is printed last.
const SCRIPT = `size=$1; dir=$2; shift 2
mount -t tmpfs -o size=$size tmpfs "$dir" || exit 99
"$@"
rc=$?
echo "left in $dir: [$(ls -A "$dir" | tr '\\n' ' ')]" >&2
exit $rc`;
// The same, for a process left running: exec, so the process to signal is litestream itself.
const EXEC_SCRIPT = 'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; shift 2; exec "$@"';

/**
 * Runs `litestream ARGS…` to completion with a tmpfs of `size` (e.g. `256k`) on `mountPoint`
 * (created if missing). Its stderr ends with the names left in the tmpfs.
 */
export async function litestreamOnTinyFs(mountPoint: string, size: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  mkdirSync(mountPoint, { recursive: true });
  const cli = new RunningCli(args, { env, launcher: ['unshare', '-rm', 'sh', '-c', SCRIPT, 'sh', size, mountPoint] });
  // 'close', not 'exit': all of its output has arrived.
  const code = await new Promise<number | null>((resolve) => cli.child.once('close', (c: number | null) => resolve(c)));
  if (code === 99) throw new Error(`cannot mount a tmpfs on ${mountPoint}:\n${cli.stderr}`);
  return { status: code, stdout: cli.stdout, stderr: cli.stderr };
}

/** Starts `litestream ARGS…`, left running, with a tmpfs of `size` on `mountPoint`; it goes when the process ends. */
export function runningOnTinyFs(mountPoint: string, size: string, args: readonly string[], env: Record<string, string> = {}): RunningCli {
  mkdirSync(mountPoint, { recursive: true });
  return new RunningCli(args, { env, launcher: ['unshare', '-rm', 'sh', '-c', EXEC_SCRIPT, 'sh', size, mountPoint] });
}
