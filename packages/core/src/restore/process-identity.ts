import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { errorCode } from '../io/durable.ts';

/**
 * Who a process is, precisely enough to tell it from a later process that got the same pid
 * (after a crash, a container restart or a reboot). `bootId` and `startTicks` are known on
 * Linux only; elsewhere the pid and the host name are all there is.
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** The kernel's boot id (`/proc/sys/kernel/random/boot_id`): differs after a reboot. */
  readonly bootId?: string | undefined;
  /** When the process started, in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  readonly startTicks?: string | undefined;
}

/** The identity of this process. */
export function currentProcess(): ProcessIdentity {
  return processIdentity(process.pid);
}

/** The identity of process `pid` of this host (its start time when `/proc` tells). */
export function processIdentity(pid: number): ProcessIdentity {
  return { pid, host: hostname(), bootId: bootId(), startTicks: procStat(pid)?.startTicks };
}

/**
 * Whether the process `owner` names still runs: `alive`, `dead`, or `unknown` when it ran on
 * another host (its pid means nothing here). A pid that is now another process (a different
 * start time), a zombie, or a process from before a reboot counts as dead.
 */
export function processState(owner: ProcessIdentity): 'alive' | 'dead' | 'unknown' {
  if (owner.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (owner.bootId !== undefined && boot !== undefined && owner.bootId !== boot) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (errorCode(error) !== 'EPERM') return 'dead';
  }
  const stat = procStat(owner.pid);
  if (stat?.state === 'Z') return 'dead';
  if (owner.startTicks !== undefined && stat !== undefined && stat.startTicks !== owner.startTicks) return 'dead';
  return 'alive';
}

let cachedBootId: string | null | undefined;

function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/** State and start time of a process from `/proc/<pid>/stat` (Linux), if readable. */
function procStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
  const state = fields[0];
  const startTicks = fields[19];
  return state && startTicks ? { state, startTicks } : undefined;
}
