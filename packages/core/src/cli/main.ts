import { runLtx } from './ltx.ts';

process.exitCode = await runLtx(process.argv.slice(2));
