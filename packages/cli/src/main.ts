import { runMain } from './run.ts';

await runMain(process.argv.slice(2));
