import { runLitestream } from './program.ts';

process.exitCode = await runLitestream(process.argv.slice(2));
