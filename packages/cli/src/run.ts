import { runLitestream, type RunOptions } from './program.ts';

/**
 * Runs `litestream ARGV…` as a process's main program: sets the exit code, and ends the process
 * a moment after the command is over even if something left behind (a socket of a request
 * abandoned at a stalled store, a library's timer) still holds the event loop. Hosts that ship
 * the command under another package (the `litestream-ts` meta-package) call it from their bin.
 */
export async function runMain(argv: readonly string[], options: RunOptions = {}): Promise<void> {
  process.exitCode = await runLitestream(argv, options);
  setTimeout(() => process.exit(), 2_000).unref();
}
