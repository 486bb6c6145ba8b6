import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { waitFor } from './wait.ts';

/** How to start a service as a local process and know it is ready. */
export interface ProcessServiceSpec {
  /** Name used in messages (e.g. `nats-server`). */
  readonly name: string;
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Resolves true once the service really answers (not just once it was spawned). */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
}

/** A running local service. */
export interface ProcessService {
  readonly pid: number;
  /** What the process printed so far (stdout and stderr, last 256 KiB). */
  log(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const LOG_LIMIT = 256 * 1024;

/**
 * Spawns a service and waits until `ready()` holds. If it exits or never becomes ready the
 * promise rejects with the reason and the tail of the service's own log.
 */
export async function startProcessService(spec: ProcessServiceSpec): Promise<ProcessService> {
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  const child = spawn(spec.command, [...(spec.args ?? [])], {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  let exited: string | undefined;
  child.once('close', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  try {
    await once(child, 'spawn'); // rejects with the spawn error (e.g. ENOENT)
  } catch (err) {
    throw new Error(`${spec.name}: could not start ${spec.command}: ${(err as Error).message}`);
  }
  try {
    await waitFor(`${spec.name} to answer`, spec.ready, {
      timeoutMs: spec.readyTimeoutMs ?? 30_000,
      abort: () => (exited ? `${spec.name} ${exited}` : undefined),
    });
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n--- ${spec.name} log ---\n${output.slice(-8000)}`);
  }
  return { pid: child.pid!, log: () => output, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exit;
  clearTimeout(timer);
}
