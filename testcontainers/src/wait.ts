import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` until it returns true or `timeoutMs` passes; throws naming `what`.
 * `abort` is checked each round and ends the wait at once with its reason (e.g. the process died).
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; abort?: () => string | undefined } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  while (Date.now() < deadline) {
    const abortReason = options.abort?.();
    if (abortReason) throw new Error(abortReason);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(options.intervalMs ?? 100);
  }
  const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what}${reason}`);
}

/** True when something accepts TCP connections on host:port. */
export function tcpAccepts(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True once an HTTP server answers `url` with any status at all. */
export async function httpAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** True once `url` answers 2xx (e.g. MinIO's `/minio/health/live`). */
export async function httpOk(url: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}
