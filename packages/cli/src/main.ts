import { runLitestream } from './program.ts';

process.exitCode = await runLitestream(process.argv.slice(2));
// The command is over. If anything left behind still holds the event loop (a socket of a request
// abandoned at a stalled store, a library's timer), the process ends anyway a moment later.
setTimeout(() => process.exit(), 2_000).unref();
