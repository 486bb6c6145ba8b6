import { lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { CliError } from '../cli-error.ts';

/**
 * Makes way for a control socket at `path`: nothing there is fine; a socket file whose server
 * is gone (a `replicate` that was killed) is removed; a socket another process still serves (a
 * second `replicate` with the same `socket.path`) or a file that is not a socket is refused.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  const stats = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new CliError(`cannot use control socket ${path} (socket.path): ${err.message}`);
  });
  if (!stats) return;
  if (!stats.isSocket()) throw new CliError(`control socket ${path} (socket.path) exists and is not a socket; remove it or set another socket.path`);
  if (await answers(path)) throw inUse(path);
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw new CliError(`cannot remove the stale control socket ${path}: ${err.message}`);
  });
}

/** The one-line refusal when another process serves the socket. */
export function inUse(path: string): CliError {
  return new CliError(`control socket ${path} is in use by another litestream replicate; stop it or set another socket.path`);
}

/** Whether a process accepts connections on the socket (one that does not answer in 2 s counts as alive). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (alive: boolean) => {
      socket.destroy();
      resolve(alive);
    };
    socket.setTimeout(2000, () => done(true));
    socket.once('connect', () => done(true));
    // ECONNREFUSED: the file is left over; EACCES: someone else's socket, in use or not.
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT'));
  });
}
